// A program that only prints. Built with the start-up CPU check set to require an instruction set
// that CPUs of today lack (cpu_check_test.cc), it must end before main runs.
#include <cstdio>

int main() {
  std::puts("main ran");
  return 0;
}
