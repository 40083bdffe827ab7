#include "exec/engine_json.h"

namespace kiln::exec {

namespace {

using Json = nlohmann::json;

const Json& EmptyObject() {
  static const Json empty = Json::object();
  return empty;
}

bool HasType(const Json& v, Json::value_t type) {
  if (type == Json::value_t::number_integer) return v.is_number_integer();
  if (type == Json::value_t::number_float) return v.is_number();
  return v.type() == type;
}

}  // namespace

base::Status MalformedAnswer(const std::string& what) {
  return {base::ErrorKind::kFailed, "docker: malformed answer: " + what};
}

base::Result<Json> ParseAnswerObject(std::string_view text, const char* what) {
  auto j = Json::parse(text, nullptr, false);
  if (!j.is_object()) return MalformedAnswer(std::string(what) + " is not a JSON object");
  return j;
}

FieldReader::~FieldReader() {
  if (parent_ && parent_->status_.ok()) parent_->status_ = status_;
}

const Json* FieldReader::Find(const char* key, Json::value_t type) {
  auto it = j_.find(key);
  if (it == j_.end() || it->is_null()) return nullptr;
  if (HasType(*it, type)) return &*it;
  Fail(what_ + "." + key + " has the wrong type");
  return nullptr;
}

std::string FieldReader::String(const char* key) {
  const Json* v = Find(key, Json::value_t::string);
  return v ? v->get<std::string>() : "";
}

int64_t FieldReader::Int(const char* key) {
  const Json* v = Find(key, Json::value_t::number_integer);
  return v ? v->get<int64_t>() : 0;
}

double FieldReader::Number(const char* key) {
  const Json* v = Find(key, Json::value_t::number_float);
  return v ? v->get<double>() : 0;
}

bool FieldReader::Bool(const char* key) {
  const Json* v = Find(key, Json::value_t::boolean);
  return v && v->get<bool>();
}

std::vector<std::string> FieldReader::Strings(const char* key) {
  std::vector<std::string> out;
  const Json* v = Find(key, Json::value_t::array);
  if (!v) return out;
  for (const Json& e : *v) {
    if (e.is_string()) {
      out.push_back(e.get<std::string>());
    } else {
      Fail(what_ + "." + key + " holds a non-string");
    }
  }
  return out;
}

std::map<std::string, std::string> FieldReader::StringMap(const char* key) {
  std::map<std::string, std::string> out;
  const Json* v = Find(key, Json::value_t::object);
  if (!v) return out;
  for (const auto& [k, e] : v->items()) {
    if (e.is_string()) {
      out[k] = e.get<std::string>();
    } else {
      Fail(what_ + "." + key + " holds a non-string");
    }
  }
  return out;
}

FieldReader FieldReader::Object(const char* key) {
  const Json* v = Find(key, Json::value_t::object);
  return FieldReader(v ? *v : EmptyObject(), what_ + "." + key, this);
}

void FieldReader::Fail(const std::string& what) {
  if (status_.ok()) status_ = MalformedAnswer(what);
}

}  // namespace kiln::exec
