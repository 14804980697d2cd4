// Third-party enrichment matching: which third-party record (a row of a file
// or a PostgreSQL table bought from a data provider) belongs to which
// customer, by e-mail, phone or address, compared in the form the
// unification matcher compares them (unify/normalize: EmailProvider, Phone,
// Address by default, or the chain of the project's match rule), plus a
// match report. Pure: the caller (workspace/enrichment_runner.h) reads the
// third-party table and the customers' identifiers (Customer after
// unification, or a source's records before it: "customers" are any rows)
// and writes Enrichment_<name> from the matched rows.
// Thread-safety: MatchThirdParty is a pure function; it runs its own worker
// threads (options.threads) and may be called concurrently.
//
// Matching is exact equality of normalized keys (no fuzzy comparison: a
// bought record attached to the wrong person is worse than none, and the
// normalizers already absorb formatting: "Bob.Smith+x@Gmail.com" and
// "bobsmith@gmail.com" are one key under EmailProvider, "(206) 555-0142" and
// "+1 206 555 0142" under Phone, "1234 North Oak Street Apt. 4B" and
// "1234 N Oak St #4B" under Address). Keys are tried in the configured
// order; for each record not matched yet:
// - blank: the record's normalized key is "" (missing, invalid, placeholder);
// - ambiguous: the normalized key is held by more than one record, or by
//   more than one customer; nobody is matched on it (which of them would be
//   right is unknowable), and it is counted;
// - unmatched: no customer holds the key;
// - taken: the one customer holding it was already matched (to another
//   record by an earlier key); counted, not matched;
// - otherwise the record and the customer are matched by this key.
// A record not matched by one key is tried with the next. The result is
// one-to-one: a customer gets at most one record, a record at most one
// customer.
//
// PII: the report never holds a full identifier. Unmatched examples are
// masked normalized keys: their first 3 characters (UTF-8 safe) and "…".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace cdp {

enum class ThirdPartyKeyKind : uint8_t { kEmail, kPhone, kAddress };
// "email", "phone", "address".
std::string_view ThirdPartyKeyKindName(ThirdPartyKeyKind kind);
// The kind named "email", "phone" or "address" (the `match:` of a key in the
// enrichments section); InvalidArgument naming the value otherwise.
StatusOr<ThirdPartyKeyKind> ParseThirdPartyKeyKind(std::string_view name);
// The normalizers the matcher uses for the kind by default (the example
// project's match rules): {"EmailProvider"}, {"Phone"}, {"Address"}.
std::vector<std::string> DefaultThirdPartyNormalizers(ThirdPartyKeyKind kind);

struct ThirdPartyKey {
  std::string name;  // for the report, e.g. "Email"; non-empty
  ThirdPartyKeyKind kind = ThirdPartyKeyKind::kEmail;
  // Normalizer chain (unify/normalize names); empty = DefaultThirdPartyNormalizers(kind).
  std::vector<std::string> normalizers;
  // One value per customer row and one per third-party record ("" = none).
  // The views must outlive the call.
  std::vector<std::string_view> customer_values;
  std::vector<std::string_view> record_values;
};

struct ThirdPartyMatchOptions {
  std::string default_region = "US";  // phones without a country code (NormalizeOptions)
  int max_examples = 5;               // masked unmatched keys reported per key, 0..100
  int threads = 0;                    // worker threads, <= 0 = one per core
};

struct ThirdPartyKeyReport {
  std::string name;
  ThirdPartyKeyKind kind = ThirdPartyKeyKind::kEmail;
  std::vector<std::string> normalizers;  // the chain used
  // Over records still unmatched when this key was tried:
  int64_t tried = 0;                // records tried with this key
  int64_t blank = 0;                // normalized key "": missing, invalid or placeholder
  int64_t blank_invalid = 0;        //   of which rejected by the chain (malformed e-mail, short phone)
  int64_t blank_placeholder = 0;    //   of which placeholders ("n/a", "000-000-0000", test@test.com)
  int64_t ambiguous_records = 0;    // key held by more than one record
  int64_t ambiguous_customers = 0;  // key unique among records but held by more than one customer
  int64_t unmatched = 0;            // no customer holds the key
  int64_t taken = 0;                // its customer was matched by an earlier key
  int64_t matched = 0;              // matched by this key
  // Over all rows: how many customers have a non-blank key, how many
  // distinct normalized keys are held by more than one customer.
  int64_t customers_with_key = 0;
  int64_t shared_customer_keys = 0;
  std::vector<std::string> unmatched_examples;  // masked ("bob…"), first ones in record order
};

struct ThirdPartyMatch {
  std::vector<int64_t> record_of_customer;  // per customer: matched record row, -1 = none
  std::vector<int64_t> customer_of_record;  // per record: matched customer row, -1 = none
  std::vector<int32_t> key_of_record;       // per record: index of the key that matched it, -1 = none
  int64_t records = 0;
  int64_t customers = 0;
  int64_t matched_records = 0;  // == matched customers (one-to-one)
  int64_t matched_customers = 0;
  int64_t unmatched_records = 0;          // records - matched_records
  double match_rate = 0;                  // matched_records / records (0 when no records)
  double customer_coverage = 0;           // matched_customers / customers (0 when no customers)
  std::vector<ThirdPartyKeyReport> keys;  // in key order
};

// Matches records to customers by `keys` in order (first match wins).
// InvalidArgument, naming the parameter and the value: no keys or more than
// 16; a key with an empty name; keys whose customer_values (or
// record_values) sizes differ from the first key's; a normalizer chain Create
// rejects (unknown name, bad region); max_examples out of range.
StatusOr<ThirdPartyMatch> MatchThirdParty(const std::vector<ThirdPartyKey>& keys,
                                          const ThirdPartyMatchOptions& options);

// The first `chars` UTF-8 characters of `value` followed by "…" ("" stays
// ""; a value of at most `chars` characters is still followed by "…", so a
// mask never reveals a whole key).
std::string MaskKey(std::string_view value, int chars = 3);

}  // namespace cdp
