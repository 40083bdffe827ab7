// A thin RAII layer over SQLite: a connection and prepared statements with checked results.
// Only src/store speaks SQL.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace kiln::store {

class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Statement(Statement&& o) noexcept : db_(o.db_), stmt_(o.stmt_) { o.stmt_ = nullptr; }
  Statement(const Statement&) = delete;
  ~Statement() { sqlite3_finalize(stmt_); }

  // Binds by 1-based position.
  Statement& Bind(int i, std::string_view v);
  Statement& Bind(int i, int64_t v);
  Statement& BindNull(int i);
  // Steps once: true when a row is ready, false when done. Errors become a Status.
  base::Result<bool> Step();
  // Runs to completion, ignoring rows.
  base::Status Run();

  std::string Text(int col) const;
  int64_t Int(int col) const;
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

class Database {
 public:
  // Opens (creating) the file in WAL mode with a busy timeout; synchronous=NORMAL (WAL keeps
  // committed transactions safe against a process crash; an OS crash may lose the last ones).
  static base::Result<std::unique_ptr<Database>> Open(const std::string& path);
  ~Database();

  base::Result<Statement> Prepare(std::string_view sql);
  base::Status Exec(std::string_view sql);
  // Runs fn inside BEGIN IMMEDIATE ... COMMIT (ROLLBACK when fn fails).
  template <typename Fn>
  base::Status Transaction(Fn&& fn) {
    if (auto st = Exec("BEGIN IMMEDIATE"); !st.ok()) return st;
    base::Status st = fn();
    if (!st.ok()) {
      (void)Exec("ROLLBACK");
      return st;
    }
    return Exec("COMMIT");
  }
  int64_t Changes() const { return sqlite3_changes64(db_); }
  base::Status Error(std::string_view what) const;

 private:
  explicit Database(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

// Steps a query to its end and maps every row with read.
template <typename Row, typename Read>
base::Result<std::vector<Row>> Collect(Statement& s, Read read) {
  std::vector<Row> out;
  for (;;) {
    auto more = s.Step();
    if (!more.ok()) return more.status();
    if (!*more) return out;
    out.push_back(read(s));
  }
}

}  // namespace kiln::store
