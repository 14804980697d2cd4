# The unification pipeline (included from CMakeLists.txt once the sub-modules exist).
cdp_module(unify
  SOURCES record_set.cc matcher.cc clustering.cc unifier.cc incremental.cc
  DEPS cdp_normalize cdp_compare cdp_probabilistic cdp_config cdp_table cdp_common PkgConfig::XXHASH
       nlohmann_json::nlohmann_json)
cdp_test(unify_test
  SOURCES record_set_test.cc unifier_test.cc clustering_test.cc incremental_test.cc matcher_test.cc
  DEPS cdp_unify)
if(CDP_BUILD_BENCH)
  # End-to-end unification speed on ~1M demo records (source in bench/unify_speed).
  add_executable(bench_unify_speed ${PROJECT_SOURCE_DIR}/bench/unify_speed/unify_speed.cc)
  target_link_libraries(bench_unify_speed PRIVATE cdp_workspace cdp_demo)
  target_compile_definitions(bench_unify_speed PRIVATE CDP_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
endif()
