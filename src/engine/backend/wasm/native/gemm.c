// Matrix-product kernels for the wasm backend, compiled to a small WebAssembly module (./build.sh) that
// imports tfjs-backend-wasm's own memory: every pointer below is a byte offset into the tfjs heap, so the
// kernels read and write tensors in place. The module must not have a stack or data of its own (it would
// live at the bottom of the tfjs heap): every value here stays in locals, and build.sh checks for it.
//
// gemm:  C = op(A)·op(B), both operands given by strides (a transpose costs nothing) and packed into panels
//        first; a 4×8 register block (8 accumulators of 4 lanes) per step of the inner loop.
// transpose:  dst[j·rows + i] = src[i·cols + j] in 8×8 tiles.
#include <wasm_simd128.h>

typedef unsigned int u32;

#define EXPORT(name) __attribute__((export_name(name)))

// One 4×8 block of C from a packed A panel (4 rows interleaved: PA[p·4 + r]) and a packed B panel (8
// columns interleaved: PB[p·8 + q]): both streams are sequential, and every value loaded is used.
static inline void block4x8(u32 K, const float* a, const float* b, float* c, u32 ldc, u32 acc) {
  v128_t c00 = wasm_f32x4_splat(0.f), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  if (acc) {
    c00 = wasm_v128_load(c); c01 = wasm_v128_load(c + 4);
    c10 = wasm_v128_load(c + ldc); c11 = wasm_v128_load(c + ldc + 4);
    c20 = wasm_v128_load(c + 2 * ldc); c21 = wasm_v128_load(c + 2 * ldc + 4);
    c30 = wasm_v128_load(c + 3 * ldc); c31 = wasm_v128_load(c + 3 * ldc + 4);
  }
  for (u32 p = 0; p < K; p++) {
    v128_t b0 = wasm_v128_load(b);
    v128_t b1 = wasm_v128_load(b + 4);
    b += 8;
    v128_t x = wasm_f32x4_splat(a[0]);
    c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(x, b0));
    c01 = wasm_f32x4_add(c01, wasm_f32x4_mul(x, b1));
    x = wasm_f32x4_splat(a[1]);
    c10 = wasm_f32x4_add(c10, wasm_f32x4_mul(x, b0));
    c11 = wasm_f32x4_add(c11, wasm_f32x4_mul(x, b1));
    x = wasm_f32x4_splat(a[2]);
    c20 = wasm_f32x4_add(c20, wasm_f32x4_mul(x, b0));
    c21 = wasm_f32x4_add(c21, wasm_f32x4_mul(x, b1));
    x = wasm_f32x4_splat(a[3]);
    c30 = wasm_f32x4_add(c30, wasm_f32x4_mul(x, b0));
    c31 = wasm_f32x4_add(c31, wasm_f32x4_mul(x, b1));
    a += 4;
  }
  wasm_v128_store(c, c00); wasm_v128_store(c + 4, c01); c += ldc;
  wasm_v128_store(c, c10); wasm_v128_store(c + 4, c11); c += ldc;
  wasm_v128_store(c, c20); wasm_v128_store(c + 4, c21); c += ldc;
  wasm_v128_store(c, c30); wasm_v128_store(c + 4, c31);
}

// PB[(j/8)·K·8 + p·8 + q] = B(p, j + q), zero past column N.
static void packB(u32 K, u32 N, const float* B, u32 sbp, u32 sbj, float* PB) {
  for (u32 j = 0; j < N; j += 8) {
    float* d = PB + j * K;
    if (sbj == 1 && j + 8 <= N) {
      const float* s = B + j;
      for (u32 p = 0; p < K; p++, s += sbp, d += 8) {
        wasm_v128_store(d, wasm_v128_load(s));
        wasm_v128_store(d + 4, wasm_v128_load(s + 4));
      }
    } else {
      u32 w = N - j < 8 ? N - j : 8;
      for (u32 p = 0; p < K; p++, d += 8)
        for (u32 q = 0; q < 8; q++) d[q] = q < w ? B[p * sbp + (j + q) * sbj] : 0.f;
    }
  }
}

// PA[(i/4)·K·4 + p·4 + r] = A(i + r, p), zero past row M.
static void packA(u32 M, u32 K, const float* A, u32 sai, u32 sap, float* PA) {
  for (u32 i = 0; i < M; i += 4) {
    float* d = PA + i * K;
    u32 h = M - i < 4 ? M - i : 4;
    if (h == 4 && sap == 1) {
      const float* a0 = A + i * sai;
      for (u32 p = 0; p < K; p++, d += 4) {
        d[0] = a0[p];
        d[1] = a0[sai + p];
        d[2] = a0[2 * sai + p];
        d[3] = a0[3 * sai + p];
      }
    } else if (h == 4 && sai == 1) {
      const float* a0 = A + i;
      for (u32 p = 0; p < K; p++, d += 4, a0 += sap) wasm_v128_store(d, wasm_v128_load(a0));
    } else {
      for (u32 p = 0; p < K; p++, d += 4)
        for (u32 r = 0; r < 4; r++) d[r] = r < h ? A[(i + r) * sai + p * sap] : 0.f;
    }
  }
}

// C[i, j] = Σ_p A(i, p)·B(p, j) with A(i, p) = A[i·sai + p·sap], B(p, j) = B[p·sbp + j·sbj] (transposes
// are strides), C row-major with row stride ldc. The sum runs in slices of KC terms; per slice both operands
// are packed into `work` (O(MK + KN) in all against O(MKN)), which holds (ceil(M/4)·4 + ceil(N/8)·8)·
// min(K, KC) + 32 floats: packed panels that stay in cache however long K is (a convolution's filter
// gradient has K = batch·height·width), and a tile for the blocks at the ragged edges.
#define KC 256u
EXPORT("gemm")
void gemm(u32 M, u32 N, u32 K, const float* A, u32 sai, u32 sap, const float* B, u32 sbp, u32 sbj, float* C, u32 ldc, float* work) {
  u32 M4 = (M + 3) & ~3u;
  u32 N8 = (N + 7) & ~7u;
  u32 kmax = K < KC ? K : KC;
  float* PA = work;
  float* PB = work + M4 * kmax;
  float* tile = PB + N8 * kmax;
  if (K == 0) {
    for (u32 i = 0; i < M; i++)
      for (u32 j = 0; j < N; j++) C[i * ldc + j] = 0.f;
    return;
  }
  for (u32 p0 = 0; p0 < K; p0 += KC) {
    u32 kc = K - p0 < KC ? K - p0 : KC;
    u32 acc = p0 > 0;
    packA(M, kc, A + p0 * sap, sai, sap, PA);
    packB(kc, N, B + p0 * sbp, sbp, sbj, PB);
    for (u32 j = 0; j < N; j += 8) {
      const float* b = PB + j * kc;
      u32 w = N - j < 8 ? N - j : 8;
      for (u32 i = 0; i < M; i += 4) {
        u32 h = M - i < 4 ? M - i : 4;
        float* c = C + i * ldc + j;
        if (w == 8 && h == 4) {
          block4x8(kc, PA + i * kc, b, c, ldc, acc);
        } else {
          for (u32 r = 0; r < 4; r++)
            for (u32 q = 0; q < 8; q++) tile[r * 8 + q] = acc && r < h && q < w ? c[r * ldc + q] : 0.f;
          block4x8(kc, PA + i * kc, b, tile, 8, 1);
          for (u32 r = 0; r < h; r++)
            for (u32 q = 0; q < w; q++) c[r * ldc + q] = tile[r * 8 + q];
        }
      }
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

// ---------------------------------------------------------------------------------------------------------
// Elementwise float32 kernels (./elementwise.ts). out has n elements; an operand with fewer elements (na or
// nb < n) repeats with that period, which covers a scalar and a broadcast over leading axes ([128,512]+[512]).

#define BINARY(NAME, VOP, SOP)                                                                          \
  EXPORT(#NAME)                                                                                          \
  void NAME##_f32(const float* a, u32 na, const float* b, u32 nb, float* out, u32 n) {                    \
    if (na == n && nb == n) {                                                                             \
      u32 i = 0;                                                                                          \
      for (; i + 4 <= n; i += 4) wasm_v128_store(out + i, VOP(wasm_v128_load(a + i), wasm_v128_load(b + i))); \
      for (; i < n; i++) out[i] = SOP(a[i], b[i]);                                                        \
    } else if (nb == 1) {                                                                                 \
      const float s = *b;                                                                                 \
      const v128_t v = wasm_f32x4_splat(s);                                                               \
      u32 i = 0;                                                                                          \
      for (; i + 4 <= n; i += 4) wasm_v128_store(out + i, VOP(wasm_v128_load(a + i), v));                 \
      for (; i < n; i++) out[i] = SOP(a[i], s);                                                           \
    } else if (na == 1) {                                                                                 \
      const float s = *a;                                                                                 \
      const v128_t v = wasm_f32x4_splat(s);                                                               \
      u32 i = 0;                                                                                          \
      for (; i + 4 <= n; i += 4) wasm_v128_store(out + i, VOP(v, wasm_v128_load(b + i)));                 \
      for (; i < n; i++) out[i] = SOP(s, b[i]);                                                           \
    } else if (na == n) {                                                                                 \
      for (u32 r = 0; r < n; r += nb) {                                                                   \
        const float* x = a + r;                                                                           \
        float* o = out + r;                                                                               \
        u32 j = 0;                                                                                        \
        for (; j + 4 <= nb; j += 4) wasm_v128_store(o + j, VOP(wasm_v128_load(x + j), wasm_v128_load(b + j))); \
        for (; j < nb; j++) o[j] = SOP(x[j], b[j]);                                                       \
      }                                                                                                   \
    } else {                                                                                              \
      for (u32 r = 0; r < n; r += na) {                                                                   \
        const float* y = b + r;                                                                           \
        float* o = out + r;                                                                               \
        u32 j = 0;                                                                                        \
        for (; j + 4 <= na; j += 4) wasm_v128_store(o + j, VOP(wasm_v128_load(a + j), wasm_v128_load(y + j))); \
        for (; j < na; j++) o[j] = SOP(a[j], y[j]);                                                       \
      }                                                                                                   \
    }                                                                                                     \
  }

#define S_ADD(x, y) ((x) + (y))
#define S_SUB(x, y) ((x) - (y))
#define S_MUL(x, y) ((x) * (y))
#define S_DIV(x, y) ((x) / (y))
BINARY(add, wasm_f32x4_add, S_ADD)
BINARY(sub, wasm_f32x4_sub, S_SUB)
BINARY(mul, wasm_f32x4_mul, S_MUL)
BINARY(div, wasm_f32x4_div, S_DIV)
// NaN in either operand gives NaN, as wasm's f32x4.min/max (and Math.min/max, the cpu backend's) do.
#define S_MIN(x, y) ((x) != (x) || (y) != (y) ? (x) + (y) : ((x) < (y) ? (x) : (y)))
#define S_MAX(x, y) ((x) != (x) || (y) != (y) ? (x) + (y) : ((x) > (y) ? (x) : (y)))
BINARY(min, wasm_f32x4_min, S_MIN)
BINARY(max, wasm_f32x4_max, S_MAX)

// Comparisons into tfjs bool tensors (one byte, 0 or 1): out[i] = a[i mod na] OP b[i mod nb], where one
// operand is the full output and the other repeats (the same layouts as BINARY). op: 0 <, 1 <=, 2 >, 3 >=,
// 4 ==, 5 !=. NaN compares false except under !=, as in JavaScript.
static inline unsigned char compare1(float x, float y, u32 op) {
  switch (op) {
    case 0: return x < y;
    case 1: return x <= y;
    case 2: return x > y;
    case 3: return x >= y;
    case 4: return x == y;
    default: return x != y;
  }
}

// 16 results at a time: four f32x4 masks narrowed to bytes, then & 1.
#define COMPARE_LOOP(OPV)                                                                                   \
  for (; i + 16 <= n; i += 16) {                                                                            \
    v128_t m0 = OPV(LA(i), LB(i)), m1 = OPV(LA(i + 4), LB(i + 4));                                          \
    v128_t m2 = OPV(LA(i + 8), LB(i + 8)), m3 = OPV(LA(i + 12), LB(i + 12));                                \
    v128_t w = wasm_i8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(m0, m1), wasm_i16x8_narrow_i32x4(m2, m3));   \
    wasm_v128_store(out + i, wasm_v128_and(w, one));                                                        \
  }

static inline v128_t cmp_ne(v128_t a, v128_t b) { return wasm_f32x4_ne(a, b); }

#define COMPARE_ALL(LA_, LB_)                                                                               \
  switch (op) {                                                                                             \
    case 0: COMPARE_LOOP(wasm_f32x4_lt) break;                                                              \
    case 1: COMPARE_LOOP(wasm_f32x4_le) break;                                                              \
    case 2: COMPARE_LOOP(wasm_f32x4_gt) break;                                                              \
    case 3: COMPARE_LOOP(wasm_f32x4_ge) break;                                                              \
    case 4: COMPARE_LOOP(wasm_f32x4_eq) break;                                                              \
    default: COMPARE_LOOP(cmp_ne) break;                                                                    \
  }

EXPORT("compare")
void compare_f32(const float* a, u32 na, const float* b, u32 nb, unsigned char* out, u32 n, u32 op) {
  const v128_t one = wasm_i8x16_splat(1);
  u32 i = 0;
  if (na == n && nb == n) {
#define LA(k) wasm_v128_load(a + (k))
#define LB(k) wasm_v128_load(b + (k))
    COMPARE_ALL(LA, LB)
#undef LA
#undef LB
    for (; i < n; i++) out[i] = compare1(a[i], b[i], op);
  } else if (nb == 1) {
    const v128_t vb = wasm_f32x4_splat(*b);
#define LA(k) wasm_v128_load(a + (k))
#define LB(k) vb
    COMPARE_ALL(LA, LB)
#undef LA
#undef LB
    for (; i < n; i++) out[i] = compare1(a[i], *b, op);
  } else if (na == 1) {
    const v128_t va = wasm_f32x4_splat(*a);
#define LA(k) va
#define LB(k) wasm_v128_load(b + (k))
    COMPARE_ALL(LA, LB)
#undef LA
#undef LB
    for (; i < n; i++) out[i] = compare1(*a, b[i], op);
  } else if (na == n) {
    for (; i < n; i++) out[i] = compare1(a[i], b[i % nb], op);
  } else {
    for (; i < n; i++) out[i] = compare1(a[i % na], b[i], op);
  }
}

EXPORT("square")
void square_f32(const float* x, float* out, u32 n) {
  u32 i = 0;
  for (; i + 4 <= n; i += 4) {
    v128_t v = wasm_v128_load(x + i);
    wasm_v128_store(out + i, wasm_f32x4_mul(v, v));
  }
  for (; i < n; i++) out[i] = x[i] * x[i];
}

EXPORT("neg")
void neg_f32(const float* x, float* out, u32 n) {
  u32 i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(out + i, wasm_f32x4_neg(wasm_v128_load(x + i)));
  for (; i < n; i++) out[i] = -x[i];
}

// max(x, 0) with NaN kept (wasm's f32x4.max propagates NaN, as Math.max does).
EXPORT("relu")
void relu_f32(const float* x, float* out, u32 n) {
  const v128_t z = wasm_f32x4_splat(0.f);
  u32 i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(out + i, wasm_f32x4_max(wasm_v128_load(x + i), z));
  for (; i < n; i++) out[i] = x[i] != x[i] ? x[i] : (x[i] > 0.f ? x[i] : 0.f);
}

// tfjs Step: 1 where x > 0, alpha elsewhere, NaN where x is NaN.
EXPORT("step")
void step_f32(const float* x, float alpha, float* out, u32 n) {
  const v128_t one = wasm_f32x4_splat(1.f), al = wasm_f32x4_splat(alpha), z = wasm_f32x4_splat(0.f);
  u32 i = 0;
  for (; i + 4 <= n; i += 4) {
    v128_t v = wasm_v128_load(x + i);
    v128_t r = wasm_v128_bitselect(one, al, wasm_f32x4_gt(v, z));
    wasm_v128_store(out + i, wasm_v128_bitselect(r, v, wasm_f32x4_eq(v, v)));
  }
  for (; i < n; i++) out[i] = x[i] != x[i] ? x[i] : (x[i] > 0.f ? 1.f : alpha);
}

// out[j] = Σ_r x[r·cols + j] (/ divisor): a sum (mean) over the leading axes, 16 columns at a time.
EXPORT("colsum")
void colsum_f32(const float* x, u32 rows, u32 cols, float divisor, float* out) {
  u32 j = 0;
  for (; j + 16 <= cols; j += 16) {
    v128_t s0 = wasm_f32x4_splat(0.f), s1 = s0, s2 = s0, s3 = s0;
    const float* p = x + j;
    for (u32 r = 0; r < rows; r++, p += cols) {
      s0 = wasm_f32x4_add(s0, wasm_v128_load(p));
      s1 = wasm_f32x4_add(s1, wasm_v128_load(p + 4));
      s2 = wasm_f32x4_add(s2, wasm_v128_load(p + 8));
      s3 = wasm_f32x4_add(s3, wasm_v128_load(p + 12));
    }
    wasm_v128_store(out + j, s0);
    wasm_v128_store(out + j + 4, s1);
    wasm_v128_store(out + j + 8, s2);
    wasm_v128_store(out + j + 12, s3);
  }
  for (; j + 4 <= cols; j += 4) {
    v128_t s0 = wasm_f32x4_splat(0.f);
    const float* p = x + j;
    for (u32 r = 0; r < rows; r++, p += cols) s0 = wasm_f32x4_add(s0, wasm_v128_load(p));
    wasm_v128_store(out + j, s0);
  }
  for (; j < cols; j++) {
    float s = 0.f;
    const float* p = x + j;
    for (u32 r = 0; r < rows; r++, p += cols) s += *p;
    out[j] = s;
  }
  if (divisor != 1.f)
    for (j = 0; j < cols; j++) out[j] = out[j] / divisor;
}

// Σ x[i] over n elements, in 16 lanes of partial sums.
EXPORT("sumall")
float sumall_f32(const float* x, u32 n) {
  v128_t s0 = wasm_f32x4_splat(0.f), s1 = s0, s2 = s0, s3 = s0;
  u32 i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = wasm_f32x4_add(s0, wasm_v128_load(x + i));
    s1 = wasm_f32x4_add(s1, wasm_v128_load(x + i + 4));
    s2 = wasm_f32x4_add(s2, wasm_v128_load(x + i + 8));
    s3 = wasm_f32x4_add(s3, wasm_v128_load(x + i + 12));
  }
  for (; i + 4 <= n; i += 4) s0 = wasm_f32x4_add(s0, wasm_v128_load(x + i));
  v128_t s = wasm_f32x4_add(wasm_f32x4_add(s0, s1), wasm_f32x4_add(s2, s3));
  float t = wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 1) + wasm_f32x4_extract_lane(s, 2) + wasm_f32x4_extract_lane(s, 3);
  for (; i < n; i++) t += x[i];
  return t;
}

// The probe's gradient change per weight set, in one pass instead of five (Sub, Square, Sum, Multiply, Sum
// over E copies of a weight): for e < sets, with d = a[e·n + i] − b[i],
//   out[2e] = Σ_i d²,   out[2e + 1] = Σ_i d·b[i],
// each sum in the lanes and order of sumall, so the results are bitwise those of the five ops.
static inline float lanes_total(v128_t s0, v128_t s1, v128_t s2, v128_t s3) {
  v128_t s = wasm_f32x4_add(wasm_f32x4_add(s0, s1), wasm_f32x4_add(s2, s3));
  return wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 1) + wasm_f32x4_extract_lane(s, 2) + wasm_f32x4_extract_lane(s, 3);
}

EXPORT("set_diff_stats")
void set_diff_stats(const float* a, const float* b, u32 sets, u32 n, float* out) {
  for (u32 e = 0; e < sets; e++, a += n) {
    v128_t q0 = wasm_f32x4_splat(0.f), q1 = q0, q2 = q0, q3 = q0;
    v128_t p0 = q0, p1 = q0, p2 = q0, p3 = q0;
    u32 i = 0;
#define DIFF_STEP(Q, P, K)                                                  \
  {                                                                         \
    v128_t bv = wasm_v128_load(b + i + (K));                                \
    v128_t d = wasm_f32x4_sub(wasm_v128_load(a + i + (K)), bv);             \
    Q = wasm_f32x4_add(Q, wasm_f32x4_mul(d, d));                            \
    P = wasm_f32x4_add(P, wasm_f32x4_mul(d, bv));                           \
  }
    for (; i + 16 <= n; i += 16) {
      DIFF_STEP(q0, p0, 0) DIFF_STEP(q1, p1, 4) DIFF_STEP(q2, p2, 8) DIFF_STEP(q3, p3, 12)
    }
    for (; i + 4 <= n; i += 4) DIFF_STEP(q0, p0, 0)
#undef DIFF_STEP
    float sq = lanes_total(q0, q1, q2, q3), dot = lanes_total(p0, p1, p2, p3);
    for (; i < n; i++) {
      float d = a[i] - b[i];
      sq += d * d;
      dot += d * b[i];
    }
    out[2 * e] = sq;
    out[2 * e + 1] = dot;
  }
}

// ---------------------------------------------------------------------------------------------------------
// The loops the convolution gradients share: every (image m, output pixel (i, j), kernel tap (r, s)) whose
// input pixel y = i·sh + r·dh − top, x = j·sw + s·dw − left lies inside the image, with px = (m·ih + y)·iw + x
// (that input pixel), op = (m·oh + i)·ow + j (the output pixel) and tap = r·kw + s; the body runs for each.
#define FOR_EACH_TAP(n, ih, iw, oh, ow, kh, kw, sh, sw, dh, dw, top, left, ...)                          \
  for (u32 m_ = 0; m_ < (n); m_++)                                                                       \
    for (u32 i_ = 0; i_ < (oh); i_++)                                                                    \
      for (u32 j_ = 0; j_ < (ow); j_++) {                                                                \
        const u32 op = (m_ * (oh) + i_) * (ow) + j_;                                                     \
        for (u32 r_ = 0; r_ < (kh); r_++) {                                                              \
          const int y_ = (int)i_ * (sh) + (int)r_ * (dh) - (top);                                        \
          if (y_ < 0 || y_ >= (ih)) continue;                                                            \
          for (u32 s_ = 0; s_ < (kw); s_++) {                                                            \
            const int x_ = (int)j_ * (sw) + (int)s_ * (dw) - (left);                                     \
            if (x_ < 0 || x_ >= (iw)) continue;                                                          \
            const u32 px = (m_ * (u32)(ih) + (u32)y_) * (u32)(iw) + (u32)x_;                             \
            const u32 tap = r_ * (kw) + s_;                                                              \
            __VA_ARGS__                                                                                  \
          }                                                                                              \
        }                                                                                                \
      }

// d[q] += c[q] and d[q] += a[q]·b[q] for q < n, four lanes at a time.
static inline void add_into(float* d, const float* c, u32 n) {
  u32 q = 0;
  for (; q + 4 <= n; q += 4) wasm_v128_store(d + q, wasm_f32x4_add(wasm_v128_load(d + q), wasm_v128_load(c + q)));
  for (; q < n; q++) d[q] += c[q];
}

static inline void madd_into(float* d, const float* a, const float* b, u32 n) {
  u32 q = 0;
  for (; q + 4 <= n; q += 4)
    wasm_v128_store(d + q, wasm_f32x4_add(wasm_v128_load(d + q), wasm_f32x4_mul(wasm_v128_load(a + q), wasm_v128_load(b + q))));
  for (; q < n; q++) d[q] += a[q] * b[q];
}

// col2im for Conv2DBackpropInput (../conv2dBackpropInput.ts): dx[m, y, x, :] += cols[(m, i, j), (r, s, :)].
// dx must be zeroed by the caller.
EXPORT("col2im")
void col2im(const float* cols, u32 nc, int ih, int iw, u32 ci, u32 oh, u32 ow, u32 kh, u32 kw,
            int sh, int sw, int dh, int dw, int top, int left, float* dx) {
  const u32 K = kh * kw * ci;
  FOR_EACH_TAP(nc, ih, iw, oh, ow, kh, kw, sh, sw, dh, dw, top, left, add_into(dx + px * ci, cols + op * K + tap * ci, ci);)
}

// im2col for Conv2DBackpropFilter (../conv2dBackpropFilter.ts): cols[(m, i, j), (r, s, c)] =
// x[m, i·sh + r·dh − top, j·sw + s·dw − left, c], 0 outside the image; runs of ci floats are copied whole.
EXPORT("im2col")
void im2col(const float* x, u32 nc, int ih, int iw, u32 ci, u32 oh, u32 ow, u32 kh, u32 kw,
            int sh, int sw, int dh, int dw, int top, int left, float* cols) {
  float* d = cols;
  for (u32 m = 0; m < nc; m++) {
    const float* img = x + (u32)(m * ih * iw) * ci;
    for (u32 i = 0; i < oh; i++) {
      for (u32 j = 0; j < ow; j++) {
        for (u32 r = 0; r < kh; r++) {
          int y = (int)i * sh + (int)r * dh - top;
          for (u32 s = 0; s < kw; s++, d += ci) {
            int xx = (int)j * sw + (int)s * dw - left;
            u32 q = 0;
            if (y < 0 || y >= ih || xx < 0 || xx >= iw) {
              for (; q < ci; q++) d[q] = 0.f;
              continue;
            }
            const float* src = img + (u32)(y * iw + xx) * ci;
            for (; q + 4 <= ci; q += 4) wasm_v128_store(d + q, wasm_v128_load(src + q));
            for (; q < ci; q++) d[q] = src[q];
          }
        }
      }
    }
  }
}

// MaxPoolGrad (../maxPoolGrad.ts), as ../../poolGrad.ts's maxPoolBackprop: each window's dy goes to its first
// largest in-bounds input (a NaN never wins after the first tap). dx must be zeroed by the caller.
static inline void taps(int start, int k, int d, int n, int* lo, int* hi) {
  int l = start;
  while (l < 0) l += d;
  int h = start + (k - 1) * d + 1;
  if (h > n) h = n;
  *lo = l;
  *hi = h > l ? h : l;
}

EXPORT("maxpoolgrad")
void maxpoolgrad(const float* x, const float* dy, u32 nb, int ih, int iw, u32 c, u32 oh, u32 ow,
                 int kh, int kw, int sh, int sw, int dh, int dw, int top, int left, float* dx) {
  const float* g = dy;
  for (u32 b = 0; b < nb; b++) {
    u32 base = b * (u32)(ih * iw) * c;
    for (u32 i = 0; i < oh; i++) {
      int y0, y1;
      taps((int)i * sh - top, kh, dh, ih, &y0, &y1);
      for (u32 j = 0; j < ow; j++, g += c) {
        int x0, x1;
        taps((int)j * sw - left, kw, dw, iw, &x0, &x1);
        if (y0 >= y1 || x0 >= x1) continue;
        // Four channels at a time: the same scan order and strict > as the scalar loop below, so the same
        // element wins every window (the first maximum; NaN never wins), then four scalar scatters.
        u32 ch = 0;
        for (; ch + 4 <= c; ch += 4) {
          const u32 first = base + (u32)(y0 * iw + x0) * c + ch;
          v128_t best = wasm_v128_load(x + first);
          v128_t at = wasm_i32x4_splat((int)first);
          for (int y = y0; y < y1; y += dh)
            for (int xx = x0; xx < x1; xx += dw) {
              const u32 k = base + (u32)(y * iw + xx) * c + ch;
              v128_t v = wasm_v128_load(x + k);
              v128_t m = wasm_f32x4_gt(v, best);
              best = wasm_v128_bitselect(v, best, m);
              at = wasm_v128_bitselect(wasm_i32x4_splat((int)k), at, m);
            }
          dx[wasm_i32x4_extract_lane(at, 0)] += g[ch];
          dx[wasm_i32x4_extract_lane(at, 1) + 1] += g[ch + 1];
          dx[wasm_i32x4_extract_lane(at, 2) + 2] += g[ch + 2];
          dx[wasm_i32x4_extract_lane(at, 3) + 3] += g[ch + 3];
        }
        for (; ch < c; ch++) {
          u32 at = base + (u32)(y0 * iw + x0) * c + ch;
          float best = x[at];
          for (int y = y0; y < y1; y += dh)
            for (int xx = x0; xx < x1; xx += dw) {
              u32 k = base + (u32)(y * iw + xx) * c + ch;
              if (x[k] > best) { best = x[k]; at = k; }
            }
          dx[at] += g[ch];
        }
      }
    }
  }
}

// The gradients of a depthwise convolution with one filter per channel (depth multiplier 1, MobileNet's),
// NHWC with the channels innermost, so every (output pixel, tap) pair is one vector loop over the channels:
//   dw_filter: dK[r, s, c] += x[b, y, x, c] · dy[b, i, j, c]
//   dw_input:  dx[b, y, x, c] += K[r, s, c] · dy[b, i, j, c]
// The output must be zeroed by the caller.
EXPORT("dw_filter")
void dw_filter(const float* x, const float* dy, float* dk, u32 n, int ih, int iw, u32 ci, u32 oh, u32 ow,
               u32 kh, u32 kw, int sh, int sw, int dh, int dw, int top, int left) {
  FOR_EACH_TAP(n, ih, iw, oh, ow, kh, kw, sh, sw, dh, dw, top, left, madd_into(dk + tap * ci, x + px * ci, dy + op * ci, ci);)
}

EXPORT("dw_input")
void dw_input(const float* k, const float* dy, float* dx, u32 n, int ih, int iw, u32 ci, u32 oh, u32 ow,
              u32 kh, u32 kw, int sh, int sw, int dh, int dw, int top, int left) {
  FOR_EACH_TAP(n, ih, iw, oh, ow, kh, kw, sh, sw, dh, dw, top, left, madd_into(dx + px * ci, k + tap * ci, dy + op * ci, ci);)
}
