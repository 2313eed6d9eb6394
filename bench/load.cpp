// A load generator for `iptplan serve`: N clients, each on its own
// keep-alive connection, POST findings files to /api/plan as fast as the
// server answers, for a number of requests; then requests per second and
// the 50th and 99th percentile latencies. Every answer must be 200 and the
// plan of the file sent (its length is checked against the first answer).
//
//   iptplan_load PORT CLIENTS REQUESTS FILE...
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s PORT CLIENTS REQUESTS FILE...\n", argv[0]);
    return 2;
  }
  int port = std::stoi(argv[1]), clients = std::stoi(argv[2]);
  long total = std::stol(argv[3]);
  std::vector<std::string> bodies;
  for (int i = 4; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    bodies.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::vector<std::size_t> expected(bodies.size(), 0);
  {
    httplib::Client c("127.0.0.1", port);
    for (std::size_t i = 0; i < bodies.size(); ++i) {
      auto r = c.Post("/api/plan", bodies[i], "application/toml");
      if (!r || r->status != 200) {
        std::fprintf(stderr, "%s: not planned (status %d)\n", argv[4 + i], r ? r->status : 0);
        return 1;
      }
      expected[i] = r->body.size();
    }
  }
  std::atomic<long> next{0}, failed{0};
  std::mutex mu;
  std::vector<double> latencies;
  latencies.reserve(static_cast<std::size_t>(total));
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&] {
      httplib::Client c("127.0.0.1", port);
      c.set_keep_alive(true);
      c.set_tcp_nodelay(true);
      c.set_read_timeout(60, 0);
      std::vector<double> mine;
      for (long k; (k = next++) < total;) {
        std::size_t i = static_cast<std::size_t>(k) % bodies.size();
        auto t0 = std::chrono::steady_clock::now();
        auto r = c.Post("/api/plan", bodies[i], "application/toml");
        auto t1 = std::chrono::steady_clock::now();
        if (!r || r->status != 200 || r->body.size() != expected[i]) {
          // The first few failures say why: the connection's error, or the
          // status and size of the answer.
          if (failed++ < 5) {
            std::lock_guard<std::mutex> lock(mu);
            if (!r) std::fprintf(stderr, "request %ld: %s\n", k, httplib::to_string(r.error()).c_str());
            else std::fprintf(stderr, "request %ld: status %d, %zu bytes (expected %zu)\n", k, r->status,
                              r->body.size(), expected[i]);
          }
        }
        mine.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      }
      std::lock_guard<std::mutex> lock(mu);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : threads) t.join();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) {
    return latencies.empty() ? 0.0 : latencies[std::min(latencies.size() - 1, static_cast<std::size_t>(p * static_cast<double>(latencies.size())))];
  };
  std::printf("%d clients: %ld requests in %.2f s: %.0f requests/s, p50 %.2f ms, p99 %.2f ms, %ld failed\n",
              clients, total, secs, static_cast<double>(total) / secs, pct(0.50), pct(0.99), failed.load());
  return failed ? 1 : 0;
}
