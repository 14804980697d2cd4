// Splits a person's full name ("Dr. John Q. Smith Jr.", "Smith, John Q.", "Maria de la Cruz")
// into first, middle and last name, so that a source with only a FullName field can be
// compared with one that has FirstName/LastName fields. Thread-safe (pure function).
#pragma once

#include <string>
#include <string_view>

namespace cdp {

struct ParsedName {
  std::string first, middle, last;
  bool operator==(const ParsedName&) const = default;
};

// The parts keep their original spelling (normalizers run on them later); runs of blanks
// become one space. Rules (README.md in this folder has the table):
// - "Last, First Middle": text before the first comma is the last name, unless everything
//   after the comma is suffixes ("John Smith, Jr.", "Jane Doe, PhD"), which are dropped.
// - Otherwise "First Middle... Last": the first word is the first name, the last word the
//   last name together with the particles right before it (van, von, der, den, de, del,
//   della, di, da, das, dos, du, la, le, st, ter, ten, bin, ibn, al, el, and any word ending
//   in an apostrophe: "O' Brien"); the words between are the middle name.
// - Titles in front (Mr, Mrs, Ms, Dr, Prof, Sir, ...) and suffixes at the end (Jr, Sr, II,
//   III, IV, PhD, MD, Esq, ...; with or without periods) are dropped, but never the only word.
// - One word is a first name. Blank input gives three empty parts.
// Inputs longer than 1,000 bytes are cut there.
ParsedName ParseFullName(std::string_view full_name);

}  // namespace cdp
