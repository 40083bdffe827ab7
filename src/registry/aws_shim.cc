#include "registry/aws_shim.h"

#include <sys/stat.h>

#include <cerrno>

#include "registry/credentials.h"

namespace kiln::registry {
namespace fs = std::filesystem;

namespace {

// Global and command options are skipped: --debug and --no-* take no value, every other
// --option takes one (--region R); --query and --output are kept for `sts --query Account`.
constexpr char kScript[] = R"SH(#!/bin/sh
# Kiln's stand-in for the AWS CLI in build containers: `ecr get-login-password` and
# `sts get-caller-identity` for the registry of kiln.yml; nothing else.
kiln_dir=/kiln
case "$0" in */*) kiln_dir="${0%/*}/.." ;; esac
words=
query=
output=json
while [ $# -gt 0 ]; do
  case "$1" in
    --version) echo "aws-cli/2 Kiln's aws stand-in (ecr get-login-password, sts get-caller-identity)"; exit 0 ;;
    --query=*) query="${1#--query=}" ;;
    --output=*) output="${1#--output=}" ;;
    --query) query="$2"; [ $# -gt 1 ] && shift ;;
    --output) output="$2"; [ $# -gt 1 ] && shift ;;
    --*=*|--debug|--no-*) ;;
    --*) [ $# -gt 1 ] && shift ;;
    *) words="${words:+$words }$1" ;;
  esac
  shift
done
set -f
set -- $words
set +f
cmd="${1:+ $1}${2:+ $2}"
case "$1 $2" in
  "ecr get-login-password")
    file="$kiln_dir/registry/password"
    if [ ! -r "$file" ]; then
      echo "kiln: no registry is configured in kiln.yml (registry:)" >&2
      exit 255
    fi
    IFS= read -r password < "$file" || [ -n "$password" ] || exit 255
    printf '%s\n' "$password"
    ;;
  "sts get-caller-identity")
    account="${AWS_ACCOUNT_ID:-000000000000}"
    case "$account" in *[!0-9]*) account=000000000000 ;; esac
    user_id="AROAKILNBUILD:kiln"
    arn="arn:aws:sts::$account:assumed-role/kiln/build"
    case "$output:$query" in
      text:Account) echo "$account" ;;
      text:UserId) echo "$user_id" ;;
      text:Arn) echo "$arn" ;;
      *) printf '{\n    "UserId": "%s",\n    "Account": "%s",\n    "Arn": "%s"\n}\n' \
           "$user_id" "$account" "$arn" ;;
    esac
    ;;
  *)
    echo "kiln: \`aws$cmd\` is not provided here" >&2
    exit 253
    ;;
esac
)SH";

base::Status WriteExecutable(const fs::path& path, const std::string& text) {
  if (auto st = WritePrivateFile(path, text); !st.ok()) return st;
  if (::chmod(path.c_str(), 0700) != 0) return base::IoError("chmod " + path.string(), errno);
  return base::Status::Ok();
}

}  // namespace

std::string AwsShimScript() { return kScript; }

base::Status WriteShimDir(const fs::path& dir, const std::optional<Access>& access) {
  for (const fs::path& d : {dir, dir / "bin", dir / "registry"}) {
    if (auto st = MakePrivateDir(d); !st.ok()) return st;
  }
  if (auto st = WriteExecutable(dir / "bin" / "aws", AwsShimScript()); !st.ok()) return st;
  if (!access) return base::Status::Ok();
  return WritePrivateFile(dir / "registry" / "password", access->password);
}

}  // namespace kiln::registry
