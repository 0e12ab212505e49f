// http_assets.hpp — the notebook page (SPEC.md "HTTP": GET /), compiled into the server:
// web/index.html, web/app.js, web/style.css and web/icon.svg, embedded by the Makefile as raw
// string literals (build/.../gen/web_assets.inc), so the binary needs no files beside it and
// the page loads nothing from another origin. Read-only data; no I/O.
#pragma once

#include <string_view>

struct WebAsset {
  std::string_view path;  // "/", "/app.js", ...
  std::string_view type;  // Content-Type
  std::string_view body;
};

// The asset served at path, or nullptr.
const WebAsset* find_web_asset(std::string_view path) noexcept;
