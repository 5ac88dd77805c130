// The error codes and end reasons: the JS-visible names of CONTRACT.md §2/§3.
#include <doctest/doctest.h>

#include <string>

#include "core/errors.h"

using namespace cleanslate;

TEST_CASE("error codes keep their JS-visible names") {
  CHECK(std::string(codeName(ErrorCode::Network)) == "network");
  CHECK(std::string(codeName(ErrorCode::Timeout)) == "timeout");
  CHECK(std::string(codeName(ErrorCode::SessionChanged)) == "session_changed");
  CHECK(std::string(codeName(ErrorCode::SessionExpired)) == "session_expired");
  CHECK(std::string(codeName(ErrorCode::BadResponse)) == "bad_response");
  CHECK(std::string(codeName(ErrorCode::CsrfUnavailable)) == "csrf_unavailable");
  CHECK(std::string(codeName(ErrorCode::Disposed)) == "disposed");
  CHECK(std::string(codeName(ErrorCode::InvalidArgument)) == "invalid_argument");
  CHECK(std::string(codeName(ErrorCode::InvalidCredentials)) == "invalid_credentials");
  CHECK(std::string(codeName(ErrorCode::RateLimited)) == "rate_limited");
  CHECK(std::string(codeName(ErrorCode::ServerError)) == "server_error");
  CHECK(std::string(codeName(ErrorCode::HttpError)) == "http_error");
  CHECK(std::string(codeName(ErrorCode::Superseded)) == "superseded");
  CHECK(std::string(codeName(ErrorCode::ResponseTooLarge)) == "response_too_large");
}

TEST_CASE("end reasons keep the auth:logout names") {
  CHECK(std::string(reasonName(EndReason::User)) == "user");
  CHECK(std::string(reasonName(EndReason::Expired)) == "expired");
  CHECK(std::string(reasonName(EndReason::Remote)) == "remote");
}
