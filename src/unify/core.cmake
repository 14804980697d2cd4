# The unification pipeline (included from CMakeLists.txt once the sub-modules exist).
cdp_module(unify
  SOURCES record_set.cc matcher.cc clustering.cc unifier.cc
  DEPS cdp_normalize cdp_compare cdp_probabilistic cdp_config cdp_table cdp_common PkgConfig::XXHASH
       nlohmann_json::nlohmann_json)
cdp_test(unify_test
  SOURCES unifier_test.cc clustering_test.cc
  DEPS cdp_unify)
