// store_format.cpp — the check-record codec; the format is described in store_format.hpp.
#include "store_format.hpp"

#include "../common/crc32c.hpp"

namespace {

void put_u64(unsigned char* p, uint64_t v) noexcept {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
void put_u32(unsigned char* p, uint32_t v) noexcept {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
uint64_t get_u64(const unsigned char* p) noexcept {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | p[i];
  return v;
}
uint32_t get_u32(const unsigned char* p) noexcept {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

// crc32c over the record with its crc field zeroed, continuing from `crc`.
uint32_t crc_of_record(uint32_t crc, const StoreRecord& r) noexcept {
  StoreRecord z = r;
  z.crc = 0;
  unsigned char buf[kRecordSize];
  encode_record(z, buf);
  return crc32c(crc, buf, kRecordSize);
}

}  // namespace

void encode_record(const StoreRecord& r, unsigned char out[kRecordSize]) noexcept {
  put_u64(out, r.seq);
  put_u64(out + 8, r.offset);
  put_u32(out + 16, r.length);
  put_u32(out + 20, r.crc);
  put_u64(out + 24, r.client_id);
  put_u64(out + 32, r.msg);
}

StoreRecord decode_record(const unsigned char in[kRecordSize]) noexcept {
  StoreRecord r;
  r.seq = get_u64(in);
  r.offset = get_u64(in + 8);
  r.length = get_u32(in + 16);
  r.crc = get_u32(in + 20);
  r.client_id = get_u64(in + 24);
  r.msg = get_u64(in + 32);
  return r;
}

void append_record(std::string& out, const StoreRecord& r) {
  unsigned char buf[kRecordSize];
  encode_record(r, buf);
  out.append(reinterpret_cast<const char*>(buf), kRecordSize);
}

uint32_t record_crc(const StoreRecord& r, std::string_view line) noexcept {
  return crc_of_record(crc32c(0, line.data(), line.size()), r);
}

StoreRecord make_record(uint64_t seq, uint64_t offset, std::string_view line,
                        uint64_t client_id, uint64_t msg) noexcept {
  StoreRecord r{seq, offset, static_cast<uint32_t>(line.size()), 0, client_id, msg};
  r.crc = record_crc(r, line);
  return r;
}

StoreRecord make_mark(uint64_t log_end, uint32_t notes, uint64_t seq_floor) noexcept {
  StoreRecord r{0, log_end, notes, 0, seq_floor, kMarkMagic};
  r.crc = crc_of_record(0, r);
  return r;
}

bool is_mark(const StoreRecord& r) noexcept {
  return r.seq == 0 && r.msg == kMarkMagic && crc_of_record(0, r) == r.crc;
}
