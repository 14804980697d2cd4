// Synthetic person records of households spread over four sources with different schemas, plus the
// ground truth: the "gen" cases of bench/unify_accuracy and the scale run of bench/unify_speed. Its
// noise model is its own (not the Contoso demo's); it shares only the demo's name and place tables.
// Functions here are thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace cdp {

struct HouseholdOptions {
  // Number of real people (1..20,000,000). Each appears in at least one source.
  int64_t people = 20000;
  uint64_t seed = 1;
  // Created if missing; files of the same names are replaced.
  std::string out_dir;
  // Multiplies every record-level dirt probability (typos, nicknames, missing fields, placeholders,
  // swapped names, format variants). 0 gives each person's true values in each source's own format;
  // 1 is the default; at most 3. Structure (households, moves, e-mail changes, duplicates within a
  // source) does not depend on it.
  double noise = 1.0;
  // Incremental-run support: this share (0..1) of records, chosen by a hash of (change_seed, source,
  // record), is rendered with fresh noise (same key, same person); every other record is
  // byte-identical to the run with changed_fraction = 0.
  double changed_fraction = 0;
  uint64_t change_seed = 1;
};

struct HouseholdFile {
  std::string source;  // the source name used in truth.csv: CRM, Loyalty, WebShop, POS
  std::string path;
  int64_t rows = 0;
};

struct HouseholdSummary {
  int64_t people = 0;
  int64_t households = 0;
  int64_t records = 0;          // all source rows
  int64_t changed_records = 0;  // rows rendered with fresh noise (changed_fraction)
  std::vector<HouseholdFile> files;  // crm, loyalty, webshop, pos, truth.csv
};

// Writes into options.out_dir (UTF-8, LF, one header row, RFC 4180 quoting where needed):
//
// crm_contacts.csv (source CRM), key ContactId "C" + 9 digits:
//   ContactId, FirstName, LastName, Email, Phone, Street, City, State, Zip, DOB (YYYY-MM-DD),
//   Gender (M|F|Male|Female|empty), CreatedAt (YYYY-MM-DD). State is a code (CA) or a name
//   (California); Zip is 5 digits or ZIP+4.
// loyalty_members.csv (source Loyalty), key MemberId "L" + 9 digits:
//   MemberId, FullName ("First Last", "First M Last", "Last, First" or upper case), Email,
//   Mobile, Zip (sometimes with the leading zero lost), JoinedOn (M/D/YYYY).
// webshop_customers.csv (source WebShop), key customer_id "w" + 10 digits:
//   customer_id, given_name, family_name, email, phone, address (one line:
//   "12 N Oak St Apt 4, Springfield, IL 62704"), birth_date (MM/DD/YYYY), created_at
//   (YYYY-MM-DDTHH:MM:SSZ).
// store_pos.csv (source POS), key PosCustomerId "P" + 8 digits: PosCustomerId, Name (upper case,
//   "FIRST LAST" or "LAST FIRST"), Phone (often digits only), StoreNo.
// truth.csv: source,key,entity with entity = person number 1..people; one row per source row.
//
// The model. People live in households (1..7 members: couples, adult children, an elderly parent,
// roommates) sharing an address, usually a surname, sometimes a landline (the "home phone" some of
// their records give) and a family e-mail address used by several members. Children differ from
// their parents in first name and birth date, except a rare son named after his father (same first
// name, "Jr"); twins share a birth date. Surnames follow the demo's frequency table for about half
// of households and a long tail of rarer names for the rest. Over time some people move house and
// some change e-mail: a record shows the values current at its creation date. Mobile numbers are
// unique per person; some are not valid NANP numbers (exchange 0xx/1xx, unassigned area codes)
// though they look real. Record noise: nicknames (Robert/Bob, Catherine/Cathy) and initials,
// typos (insert, delete, substitute, transpose), first/last swapped, accents folded, missing
// fields, placeholders (000-000-0000, test@test.com, N/A, 1900-01-01), e-mail typos, phone layouts
// and single-digit phone errors, day/month swapped dates, mistyped years (which can make an invalid
// date such as 2/29/1981: about 1 record in 100,000), ZIP+4 and lost leading zeros, street
// types abbreviated or not, duplicates within a source.
//
// Memory is O(people) only for the set of issued e-mail addresses (8 bytes each); records stream
// to the files. The same options give byte-identical files.
//
// Errors: InvalidArgument for people outside 1..20,000,000, noise outside [0, 3],
// changed_fraction outside [0, 1], an empty out_dir or a null summary; Unavailable if out_dir or a
// file cannot be created; DataLoss on write errors.
Status GenerateHouseholdSources(const HouseholdOptions& options, HouseholdSummary* summary);

}  // namespace cdp
