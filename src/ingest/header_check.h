// Checks of a CSV file's first line against a source's declared fields,
// made before any row is converted: a header that does not name the
// declared fields, or a header line in a file read without one, would
// otherwise quarantine every row or ingest the header as a record.
// Stateless; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "ingest/record_reader.h"
#include "ingest/type_inference.h"

namespace cdp {

// For a file read with a header. Columns are matched by name, not by
// position, so the rule is: every declared field's input name (its
// source_field, else its name) is a header name, exactly (case and spaces
// count); order and extra header fields do not matter. InvalidArgument
// otherwise, naming `location` and the missing fields and showing both lists,
// the first missing declared field and, when one looks like it (same letters
// and digits ignoring case, or the header field at the same position after
// equal leading fields), its header counterpart marked with >>...<<, e.g.
//   contacts.csv: the header does not match the declared fields: declared
//   field 'Email' is not in the header (did you mean 'E-Mail'?); missing:
//   Email; declared: Id, Name, >>Email<<; header: Id, Name, >>E-Mail<<, Born
// When no declared field is in the header, the message asks whether the file
// has a header line at all (header: false).
Status CheckHeaderNamesDeclaredFields(const std::string& location, const std::vector<FieldOverride>& declared,
                                      const std::vector<std::string>& header);

// For a file read without a header (fields column1, column2, ...): the
// declared fields mapped to a column (source_field: columnN) are compared
// with the first record (first_record_fields; empty when it could not be
// read). If every such field's value there equals the field's name (ignoring
// case, spaces and punctuation: "first_name" = FirstName) the file starts
// with a header line: InvalidArgument "LOCATION: line N looks like a header
// line (...); the file starts with a header line: set header: true". No
// declared field mapped to a column: nothing to compare, OK.
Status CheckNoHeaderLine(const std::string& location, const std::vector<FieldOverride>& declared,
                         const std::vector<std::string>& first_record_fields, int64_t first_line);

}  // namespace cdp
