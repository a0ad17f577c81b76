# The x86 instruction sets a compiler flag set targets, read from the compiler's predefined
# macros (`-dM -E`), for the start-up check in launch/platform/cpu_check.cc.
#
# mlp_write_cpu_features(OUTPUT FLAGS...) writes OUTPUT with one MLP_REQUIRE_FEATURE("name") line
# per instruction set beyond baseline x86-64 that FLAGS enable; names are those
# __builtin_cpu_supports knows. The file changes only when the list does. Sets
# MLP_CPU_FEATURES_OFF to the -mno-NAME flags that keep a file free of those sets whatever
# explicit -mNAME flags FLAGS hold.
function(mlp_write_cpu_features output)
  set(lines "")
  set(off "")
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
    execute_process(COMMAND ${CMAKE_CXX_COMPILER} ${ARGN} -dM -E -x c++ /dev/null
                    OUTPUT_VARIABLE macros RESULT_VARIABLE failed ERROR_QUIET)
    if(failed)
      message(FATAL_ERROR "cannot list the predefined macros of ${CMAKE_CXX_COMPILER} ${ARGN}")
    endif()
    # macro:name pairs, oldest sets first so the first missing one is the most telling.
    foreach(pair __SSE3__:sse3 __SSSE3__:ssse3 __SSE4_1__:sse4.1 __SSE4_2__:sse4.2
                 __POPCNT__:popcnt __AES__:aes __PCLMUL__:pclmul __AVX__:avx __F16C__:f16c
                 __AVX2__:avx2 __FMA__:fma __BMI__:bmi __BMI2__:bmi2 __AVX512F__:avx512f
                 __AVX512CD__:avx512cd __AVX512BW__:avx512bw __AVX512DQ__:avx512dq
                 __AVX512VL__:avx512vl __AVX512IFMA__:avx512ifma __AVX512VBMI__:avx512vbmi
                 __AVX512VBMI2__:avx512vbmi2 __AVX512VNNI__:avx512vnni
                 __AVX512BITALG__:avx512bitalg __AVX512VPOPCNTDQ__:avx512vpopcntdq
                 __AVX512BF16__:avx512bf16 __AVX512FP16__:avx512fp16 __GFNI__:gfni
                 __VPCLMULQDQ__:vpclmulqdq)
      string(REPLACE ":" ";" parts ${pair})
      list(GET parts 0 macro)
      list(GET parts 1 name)
      if(macros MATCHES "#define ${macro} 1")
        string(APPEND lines "MLP_REQUIRE_FEATURE(\"${name}\")\n")
        list(APPEND off -mno-${name})
      endif()
    endforeach()
  endif()
  file(CONFIGURE OUTPUT ${output} CONTENT "${lines}")
  set(MLP_CPU_FEATURES_OFF ${off} PARENT_SCOPE)
endfunction()
