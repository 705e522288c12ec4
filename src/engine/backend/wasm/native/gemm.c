// Matrix-product kernels for the wasm backend, compiled to a small WebAssembly module (./build.sh) that
// imports tfjs-backend-wasm's own memory: every pointer below is a byte offset into the tfjs heap, so the
// kernels read and write tensors in place. The module must not have a stack or data of its own (it would
// live at the bottom of the tfjs heap): every value here stays in locals, and build.sh checks for it.
//
// gemm:  C[i, j] = Σ_p A(i, p) · B[p, j]   with A(i, p) = A[i·sai + p·sap] (so Aᵀ is free: swap the
//        strides) and B row-major with row stride ldb, C row-major with row stride ldc. A 4×8 register
//        block (8 accumulators of 4 lanes), B read along its rows, A broadcast one element at a time.
// transpose:  dst[j·rows + i] = src[i·cols + j] in 8×8 tiles (for Bᵀ, which must be row-major here).
#include <wasm_simd128.h>

typedef unsigned int u32;

#define EXPORT(name) __attribute__((export_name(name)))

static inline void block4x8(u32 K, const float* a, u32 sai, u32 sap, const float* b, u32 ldb, float* c, u32 ldc) {
  v128_t c00 = wasm_f32x4_splat(0.f), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  const float* a0 = a;
  const float* a1 = a + sai;
  const float* a2 = a + 2 * sai;
  const float* a3 = a + 3 * sai;
  for (u32 p = 0; p < K; p++) {
    v128_t b0 = wasm_v128_load(b);
    v128_t b1 = wasm_v128_load(b + 4);
    b += ldb;
    v128_t x = wasm_f32x4_splat(*a0);
    c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(x, b0));
    c01 = wasm_f32x4_add(c01, wasm_f32x4_mul(x, b1));
    x = wasm_f32x4_splat(*a1);
    c10 = wasm_f32x4_add(c10, wasm_f32x4_mul(x, b0));
    c11 = wasm_f32x4_add(c11, wasm_f32x4_mul(x, b1));
    x = wasm_f32x4_splat(*a2);
    c20 = wasm_f32x4_add(c20, wasm_f32x4_mul(x, b0));
    c21 = wasm_f32x4_add(c21, wasm_f32x4_mul(x, b1));
    x = wasm_f32x4_splat(*a3);
    c30 = wasm_f32x4_add(c30, wasm_f32x4_mul(x, b0));
    c31 = wasm_f32x4_add(c31, wasm_f32x4_mul(x, b1));
    a0 += sap; a1 += sap; a2 += sap; a3 += sap;
  }
  wasm_v128_store(c, c00); wasm_v128_store(c + 4, c01); c += ldc;
  wasm_v128_store(c, c10); wasm_v128_store(c + 4, c11); c += ldc;
  wasm_v128_store(c, c20); wasm_v128_store(c + 4, c21); c += ldc;
  wasm_v128_store(c, c30); wasm_v128_store(c + 4, c31);
}

static inline void block1x8(u32 K, const float* a, u32 sap, const float* b, u32 ldb, float* c) {
  v128_t c0 = wasm_f32x4_splat(0.f), c1 = c0;
  for (u32 p = 0; p < K; p++) {
    v128_t x = wasm_f32x4_splat(*a);
    c0 = wasm_f32x4_add(c0, wasm_f32x4_mul(x, wasm_v128_load(b)));
    c1 = wasm_f32x4_add(c1, wasm_f32x4_mul(x, wasm_v128_load(b + 4)));
    a += sap;
    b += ldb;
  }
  wasm_v128_store(c, c0);
  wasm_v128_store(c + 4, c1);
}

static inline void block4x4(u32 K, const float* a, u32 sai, u32 sap, const float* b, u32 ldb, float* c, u32 ldc) {
  v128_t c0 = wasm_f32x4_splat(0.f), c1 = c0, c2 = c0, c3 = c0;
  const float* a0 = a;
  const float* a1 = a + sai;
  const float* a2 = a + 2 * sai;
  const float* a3 = a + 3 * sai;
  for (u32 p = 0; p < K; p++) {
    v128_t b0 = wasm_v128_load(b);
    b += ldb;
    c0 = wasm_f32x4_add(c0, wasm_f32x4_mul(wasm_f32x4_splat(*a0), b0));
    c1 = wasm_f32x4_add(c1, wasm_f32x4_mul(wasm_f32x4_splat(*a1), b0));
    c2 = wasm_f32x4_add(c2, wasm_f32x4_mul(wasm_f32x4_splat(*a2), b0));
    c3 = wasm_f32x4_add(c3, wasm_f32x4_mul(wasm_f32x4_splat(*a3), b0));
    a0 += sap; a1 += sap; a2 += sap; a3 += sap;
  }
  wasm_v128_store(c, c0); c += ldc;
  wasm_v128_store(c, c1); c += ldc;
  wasm_v128_store(c, c2); c += ldc;
  wasm_v128_store(c, c3);
}

static inline void block1x4(u32 K, const float* a, u32 sap, const float* b, u32 ldb, float* c) {
  v128_t c0 = wasm_f32x4_splat(0.f);
  for (u32 p = 0; p < K; p++) {
    c0 = wasm_f32x4_add(c0, wasm_f32x4_mul(wasm_f32x4_splat(*a), wasm_v128_load(b)));
    a += sap;
    b += ldb;
  }
  wasm_v128_store(c, c0);
}

EXPORT("gemm")
void gemm(u32 M, u32 N, u32 K, const float* A, u32 sai, u32 sap, const float* B, u32 ldb, float* C, u32 ldc) {
  u32 j = 0;
  for (; j + 8 <= N; j += 8) {
    u32 i = 0;
    for (; i + 4 <= M; i += 4) block4x8(K, A + i * sai, sai, sap, B + j, ldb, C + i * ldc + j, ldc);
    for (; i < M; i++) block1x8(K, A + i * sai, sap, B + j, ldb, C + i * ldc + j);
  }
  for (; j + 4 <= N; j += 4) {
    u32 i = 0;
    for (; i + 4 <= M; i += 4) block4x4(K, A + i * sai, sai, sap, B + j, ldb, C + i * ldc + j, ldc);
    for (; i < M; i++) block1x4(K, A + i * sai, sap, B + j, ldb, C + i * ldc + j);
  }
  for (; j < N; j++) {
    for (u32 i = 0; i < M; i++) {
      const float* a = A + i * sai;
      const float* b = B + j;
      float s = 0.f;
      for (u32 p = 0; p < K; p++) {
        s += *a * *b;
        a += sap;
        b += ldb;
      }
      C[i * ldc + j] = s;
    }
  }
}

EXPORT("transpose")
void transpose(const float* src, u32 rows, u32 cols, float* dst) {
  for (u32 i0 = 0; i0 < rows; i0 += 8) {
    u32 i1 = i0 + 8 < rows ? i0 + 8 : rows;
    for (u32 j0 = 0; j0 < cols; j0 += 8) {
      u32 j1 = j0 + 8 < cols ? j0 + 8 : cols;
      for (u32 i = i0; i < i1; i++)
        for (u32 j = j0; j < j1; j++) dst[j * rows + i] = src[i * cols + j];
    }
  }
}
