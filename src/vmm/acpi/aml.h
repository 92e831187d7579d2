/* SPDX-License-Identifier: MIT */
/* A small AML (ACPI Machine Language) encoder: just what our DSDT needs. */
#ifndef VMM_ACPI_AML_H
#define VMM_ACPI_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A growable byte buffer that AML is appended to.
 *
 * Error state is sticky: the first failure (-ENOMEM, -EINVAL, -ERANGE) is
 * recorded in err, every later call does nothing and returns that same code.
 * So a caller may emit a whole table and check the result once, at the end,
 * with aml_buf_error(). Initialise with aml_buf_init() (or zero it) and
 * release with aml_buf_free().
 */
struct aml_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	int err;
};

/* Longest value a PkgLength can hold: 28 bits. */
#define AML_PKGLEN_MAX 0x0FFFFFFFu

/* Extended Interrupt descriptor flag bits (ACPI 6.x, 6.4.3.6). */
#define AML_IRQ_CONSUMER     (1u << 0) /* else producer */
#define AML_IRQ_EDGE         (1u << 1) /* else level */
#define AML_IRQ_ACTIVE_LOW   (1u << 2) /* else active high */
#define AML_IRQ_SHARED       (1u << 3) /* else exclusive */
#define AML_IRQ_WAKE_CAPABLE (1u << 4)

void aml_buf_init(struct aml_buf *b);
/* Frees the storage; the buffer is re-initialised and may be reused. */
void aml_buf_free(struct aml_buf *b);
/* Returns the sticky error: 0 if every call so far succeeded, else -errno. */
int aml_buf_error(const struct aml_buf *b);
/* Appends n raw bytes. Returns 0 or the sticky -errno (-ENOMEM). */
int aml_buf_append(struct aml_buf *b, const void *p, size_t n);

/*
 * Encodes the PkgLength *value* len (which already counts the PkgLength bytes
 * themselves) into out, in the fewest bytes: one byte for len < 64, else a
 * lead byte with the count of following bytes in bits 7:6 and the low nibble
 * of len in bits 3:0. Returns the number of bytes written (1..4), or -ERANGE
 * if len > AML_PKGLEN_MAX. Pure; touches no buffer.
 */
int aml_pkglen_encode(uint32_t len, uint8_t out[4]);
/*
 * Encodes the PkgLength for a package whose body (the bytes after the
 * PkgLength) is body_len bytes long: picks the shortest encoding such that
 * the value counts its own bytes. Returns the byte count (1..4) or -ERANGE.
 */
int aml_pkglen_encode_body(size_t body_len, uint8_t out[4]);

/*
 * Appends a NameString. path is "\\" (root prefix) and/or '^' parent
 * prefixes, then dot-separated NameSegs of 1..4 characters ([A-Z_] then
 * [A-Z0-9_]); short segments are padded with '_'. "" gives NullName.
 * Returns 0 or -EINVAL (malformed path) / sticky -errno.
 */
int aml_namestring_emit(struct aml_buf *b, const char *path);

/*
 * Appends an Integer in its shortest form: ZeroOp, OneOp, OnesOp (only for
 * UINT64_MAX: a DSDT of revision >= 2 has 64-bit integers), or a Byte, Word,
 * DWord or QWord prefix. Returns 0 or sticky -errno.
 */
int aml_integer_emit(struct aml_buf *b, uint64_t v);
/* Appends a String (printable ASCII 0x01..0x7F). Returns 0, -EINVAL or sticky -errno. */
int aml_string_emit(struct aml_buf *b, const char *s);

/*
 * Compresses a 7-character EISA id such as "PNP0501" into the 32-bit value
 * that AML stores as a DWord (so "PNP0501" -> 0x0105D041). Returns 0 with
 * *out set, or -EINVAL if id is not three letters A-Z then four hex digits.
 */
int aml_eisaid_encode(const char *id, uint32_t *out);
/* Appends the EISA id as a DWord integer. Returns 0, -EINVAL or sticky -errno. */
int aml_eisaid_emit(struct aml_buf *b, const char *id);

/*
 * Appends NameOp and the name; the caller appends exactly one data object
 * (integer, string, package, buffer) right after. Returns 0, -EINVAL or
 * sticky -errno.
 */
int aml_name_emit(struct aml_buf *b, const char *name);

/*
 * Package-like constructs are written open/close: *_begin() appends the
 * opcode and head, remembering in *mark where the body starts; aml_pkg_end()
 * (for scopes, devices and packages) or aml_buffer_end() (for buffers) then
 * inserts the PkgLength in front of the body. Begin/end calls must nest properly. All return 0 or -errno
 * (sticky); end returns -ERANGE if the body is too long for a PkgLength.
 */
int aml_scope_begin(struct aml_buf *b, const char *path, size_t *mark);
int aml_device_begin(struct aml_buf *b, const char *name, size_t *mark);
/* The caller appends exactly nelems elements. nelems <= 255. */
int aml_package_begin(struct aml_buf *b, unsigned int nelems, size_t *mark);
int aml_pkg_end(struct aml_buf *b, size_t mark);

/*
 * A Buffer whose BufferSize is the length of the bytes appended before
 * aml_buffer_end(); a ResourceTemplate is a buffer of resource descriptors
 * closed by aml_res_end_tag_emit().
 */
int aml_buffer_begin(struct aml_buf *b, size_t *mark);
int aml_buffer_end(struct aml_buf *b, size_t mark);

/* Resource descriptors (ACPI 6.x, 6.4). Each returns 0 or sticky -errno. */
/* Memory32Fixed(ReadWrite or ReadOnly, base, length). */
int aml_res_mem32_fixed_emit(struct aml_buf *b, bool writable, uint32_t base, uint32_t len);
/* Extended Interrupt with one interrupt number; flags from AML_IRQ_* (else -EINVAL). */
int aml_res_ext_irq_emit(struct aml_buf *b, uint8_t flags, uint32_t gsi);
/* IO(Decode16, min, max, align, len). */
int aml_res_io16_emit(struct aml_buf *b, uint16_t min, uint16_t max, uint8_t align, uint8_t len);
/* End Tag; checksum 0 ("treat as valid"). */
int aml_res_end_tag_emit(struct aml_buf *b);

#endif
