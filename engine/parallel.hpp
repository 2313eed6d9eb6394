// Work spread over the machine's cores, for the few steps of loading a rule
// set that are independent per file (parsing, freeing syntax trees). Results
// are written by index, so the outcome never depends on which thread ran
// what; an exception in a task is rethrown in the caller.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace iptplan {

// Calls fn(i) for every i in [0, n), on up to the core count of threads
// (the caller's included). Small jobs (n < 2) run on the caller alone.
template <class Fn>
void parallel_for(std::size_t n, Fn&& fn) {
  std::size_t workers = std::min<std::size_t>(n, std::max(1u, std::thread::hardware_concurrency()));
  if (workers <= 1) {
    for (std::size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::exception_ptr failure;
  std::mutex m;
  auto work = [&] {
    for (;;) {
      std::size_t i = next.fetch_add(1);
      if (i >= n) return;
      try {
        fn(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(m);
        if (!failure) failure = std::current_exception();
        next = n;  // the others stop at their next task
      }
    }
  };
  std::vector<std::thread> threads;
  threads.reserve(workers - 1);
  for (std::size_t w = 1; w < workers; ++w) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace iptplan
