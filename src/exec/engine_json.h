// Reading the Docker engine's JSON answers defensively: every answer is untrusted, so a field of
// the wrong type or an answer of the wrong shape becomes a kFailed Status ("docker: malformed
// answer ..."), never an exception. Internal to the engine clients' decoders (docker_wire.cc,
// swarm_wire.cc).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace kiln::exec {

// kFailed "docker: malformed answer: <what>".
base::Status MalformedAnswer(const std::string& what);

// text as a JSON object, or MalformedAnswer naming `what`.
base::Result<nlohmann::json> ParseAnswerObject(std::string_view text, const char* what);

// Reads typed fields of one engine object. A missing or null field reads as empty (0, "",
// false); a field of the wrong type reads as empty too and is remembered as the first error.
// A reader must not outlive the JSON it reads; a nested reader (Object) must not outlive its
// parent, to which it hands its first error when destroyed.
class FieldReader {
 public:
  using Json = nlohmann::json;

  FieldReader(const Json& j, std::string what) : j_(j), what_(std::move(what)) {}
  FieldReader(const FieldReader&) = delete;
  FieldReader& operator=(const FieldReader&) = delete;
  ~FieldReader();

  // The field when present with that type (any integer for number_integer, any number for
  // number_float), else nullptr.
  const Json* Find(const char* key, Json::value_t type);
  std::string String(const char* key);
  int64_t Int(const char* key);
  double Number(const char* key);
  bool Bool(const char* key);
  std::vector<std::string> Strings(const char* key);
  std::map<std::string, std::string> StringMap(const char* key);
  FieldReader Object(const char* key);
  // Records a problem found by the caller (the first error wins).
  void Fail(const std::string& what);
  const std::string& what() const { return what_; }
  base::Status status() const { return status_; }

 private:
  FieldReader(const Json& j, std::string what, FieldReader* parent)
      : j_(j), what_(std::move(what)), parent_(parent) {}

  const Json& j_;
  std::string what_;
  FieldReader* parent_ = nullptr;
  base::Status status_;
};

}  // namespace kiln::exec
