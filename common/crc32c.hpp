// crc32c.hpp — CRC-32C (Castagnoli), the store's per-note check value. Pure code.
#pragma once

#include <cstddef>
#include <cstdint>

// Continues a CRC: pass the previous result as `crc` (0 to start).
uint32_t crc32c(uint32_t crc, const void* data, size_t len) noexcept;
