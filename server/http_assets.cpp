// http_assets.cpp — see http_assets.hpp. web_assets.inc defines kIndexHtml, kAppJs, kStyleCss
// and kIconSvg (generated from web/ by the Makefile rule of the same name).
#include "http_assets.hpp"

#include "web_assets.inc"

namespace {
const WebAsset kAssets[] = {
    {"/", "text/html; charset=utf-8", kIndexHtml},
    {"/app.js", "text/javascript; charset=utf-8", kAppJs},
    {"/style.css", "text/css; charset=utf-8", kStyleCss},
    {"/icon.svg", "image/svg+xml", kIconSvg},
};
}  // namespace

const WebAsset* find_web_asset(std::string_view path) noexcept {
  for (const WebAsset& a : kAssets)
    if (a.path == path) return &a;
  return nullptr;
}
