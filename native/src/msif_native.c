/*
 * msif_native: float32 CPU kernels for MSIF's `native` TensorFlow.js backend
 * (src/worker/native/), on a system BLAS (OpenBLAS).
 *
 * Every function is synchronous and allocation-free on the JS side: the caller passes the
 * input typed arrays and a preallocated output typed array, plus the geometry as numbers or
 * an Int32Array. Shapes, attribute parsing and fallbacks live in TypeScript; this file only
 * does arithmetic. All tensors are row-major (NHWC for images, [KH, KW, C, O] for filters,
 * TensorFlow's layouts).
 *
 *   info()                                         -> { blas, corename, threads }
 *   setThreads(n)                                  -> threads now in use
 *   setChunking(budgetFloats, minRows)             im2col chunk size (default 1 Mi floats, 128 rows)
 *   batchMatMul(a, b, out, batch, batchA, batchB, m, n, k, transA, transB)
 *   conv2d(x, w, y, geom)                          y  = x ⋆ w
 *   conv2dBackpropInput(dy, w, dx, geom)           dx = ∂(x ⋆ w)/∂x ᵀ dy
 *   conv2dBackpropFilter(x, dy, dw, geom)          dw = ∂(x ⋆ w)/∂w ᵀ dy
 *   transpose(x, out, shape, perm)                 any 4-byte element type
 *   binary(op, a, b, out, outShape, aStrides, bStrides)   broadcasting float32 a op b
 *   unary(op, x, out)                              elementwise float32
 *   sumRows(x, out, rows, cols)                    out[r] = Σ_c x[r, c] (float64 accumulator)
 *   argMaxRows(x, out, rows, cols)                 out[r] = first argmax_c x[r, c] (Int32Array out)
 *   oneHot(indices, out, depth, on, off)           one-hot rows of Int32Array indices
 *   sumColumns(x, out, rows, cols)                 out[c] = Σ_r x[r, c] (float64 accumulators)
 *   maxPoolArgmax(x, out, pool)                    flat index of each window's first maximum
 *   gatherFlat(x, indices, out)                    out[i] = x[indices[i]]
 *   scatterAddFlat(dy, indices, out)               out[indices[i]] += dy[i] (out zeroed by the caller)
 *   tanhSlope(a, t, out)                           out = (1 − a²)·t  (tanh's derivative from its output a)
 *   tanhCurvature(a, t, g, out)                    out = −2·a·t·g    (its derivative in a)
 *
 * geom (Int32Array, 15): N H W C KH KW O OH OW strideH strideW dilationH dilationW padTop padLeft
 * pool (Int32Array, 12): N H W C KH KW OH OW strideH strideW padTop padLeft
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* From OpenBLAS (declared here so that any cblas.h will do). */
extern void openblas_set_num_threads(int num_threads);
extern int openblas_get_num_threads(void);
extern char *openblas_get_config(void);
extern char *openblas_get_corename(void);

/* Compiled twice (AVX2 and baseline x86-64), picked at load time. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define MULTIVERSION __attribute__((target_clones("avx2", "default")))
#else
#define MULTIVERSION
#endif

/*
 * Upper bound on an im2col buffer, in floats (4 MiB, so that a chunk is still in cache when
 * sgemm reads it); conv work is split into row chunks. Measured on the paper CNN's conv2
 * (128×12×12×32 ⋆ 5×5×32×64): 8.5 ms with 1 Mi floats, 14.6 ms with 8 Mi.
 */
static int64_t col_budget = 1 << 20;
/* Fewest output rows per chunk, so that each sgemm stays efficient. */
static int64_t min_chunk_rows = 128;

/* ------------------------------------------------------------------ N-API helpers */

#define CHECK(call)                                                                  \
  do {                                                                               \
    if ((call) != napi_ok) {                                                         \
      napi_throw_error(env, NULL, "msif_native: N-API call failed: " #call);         \
      return NULL;                                                                   \
    }                                                                                \
  } while (0)

#define FAIL(msg)                                     \
  do {                                                \
    napi_throw_error(env, NULL, "msif_native: " msg); \
    return NULL;                                      \
  } while (0)

typedef struct {
  void *data;
  size_t length;
  napi_typedarray_type type;
} Array;

static int get_array(napi_env env, napi_value v, Array *out) {
  bool is;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return 0;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &out->type, &out->length, &out->data, &ab, &off) != napi_ok) return 0;
  return 1;
}

static int get_f32(napi_env env, napi_value v, Array *out) {
  return get_array(env, v, out) && out->type == napi_float32_array;
}

static int get_i32(napi_env env, napi_value v, int64_t *out) {
  return napi_get_value_int64(env, v, out) == napi_ok;
}

static int get_bool(napi_env env, napi_value v, bool *out) {
  return napi_get_value_bool(env, v, out) == napi_ok;
}

/* ------------------------------------------------------------------ info / threads */

static napi_value info(napi_env env, napi_callback_info cbi) {
  napi_value obj, s;
  CHECK(napi_create_object(env, &obj));
  const char *config = openblas_get_config();
  CHECK(napi_create_string_utf8(env, config ? config : "", NAPI_AUTO_LENGTH, &s));
  CHECK(napi_set_named_property(env, obj, "blas", s));
  const char *core = openblas_get_corename();
  CHECK(napi_create_string_utf8(env, core ? core : "", NAPI_AUTO_LENGTH, &s));
  CHECK(napi_set_named_property(env, obj, "corename", s));
  CHECK(napi_create_int32(env, openblas_get_num_threads(), &s));
  CHECK(napi_set_named_property(env, obj, "threads", s));
  return obj;
}

static napi_value set_threads(napi_env env, napi_callback_info cbi) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, cbi, &argc, argv, NULL, NULL));
  int64_t n;
  if (argc < 1 || !get_i32(env, argv[0], &n) || n < 1) FAIL("setThreads(n): n must be a positive integer");
  openblas_set_num_threads((int)n);
  napi_value r;
  CHECK(napi_create_int32(env, openblas_get_num_threads(), &r));
  return r;
}

/* setChunking(budgetFloats, minRows): the im2col chunking (tests use tiny chunks). */
static napi_value set_chunking(napi_env env, napi_callback_info cbi) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, cbi, &argc, argv, NULL, NULL));
  int64_t budget, rows;
  if (argc < 2 || !get_i32(env, argv[0], &budget) || !get_i32(env, argv[1], &rows) || budget < 1 || rows < 1) FAIL("setChunking(budgetFloats, minRows): positive integers expected");
  col_budget = budget;
  min_chunk_rows = rows;
  return NULL;
}

/* ------------------------------------------------------------------ matmul */

static napi_value batch_mat_mul(napi_env env, napi_callback_info cbi) {
  size_t argc = 11;
  napi_value argv[11];
  CHECK(napi_get_cb_info(env, cbi, &argc, argv, NULL, NULL));
  if (argc < 11) FAIL("batchMatMul: 11 arguments expected");
  Array a, b, c;
  int64_t batch, batchA, batchB, m, n, k;
  bool ta, tb;
  if (!get_f32(env, argv[0], &a) || !get_f32(env, argv[1], &b) || !get_f32(env, argv[2], &c)) FAIL("batchMatMul: a, b, out must be Float32Arrays");
  if (!get_i32(env, argv[3], &batch) || !get_i32(env, argv[4], &batchA) || !get_i32(env, argv[5], &batchB) || !get_i32(env, argv[6], &m) ||
      !get_i32(env, argv[7], &n) || !get_i32(env, argv[8], &k) || !get_bool(env, argv[9], &ta) || !get_bool(env, argv[10], &tb))
    FAIL("batchMatMul: bad size or flag arguments");
  if (batch < 1 || batchA < 1 || batchB < 1 || m < 0 || n < 0 || k < 0) FAIL("batchMatMul: negative size");
  if ((size_t)(batchA * m * k) > a.length || (size_t)(batchB * k * n) > b.length || (size_t)(batch * m * n) > c.length) FAIL("batchMatMul: arrays too short");
  const float *A = a.data, *B = b.data;
  float *C = c.data;
  if (k == 0) {
    memset(C, 0, sizeof(float) * (size_t)(batch * m * n));
    return NULL;
  }
  for (int64_t i = 0; i < batch; i++) {
    const float *ai = A + (i % batchA) * m * k;
    const float *bi = B + (i % batchB) * k * n;
    float *ci = C + i * m * n;
    if (m == 0 || n == 0) continue;
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k, 1.0f, ai, ta ? (int)m : (int)k,
                bi, tb ? (int)k : (int)n, 0.0f, ci, (int)n);
  }
  return NULL;
}

/* ------------------------------------------------------------------ convolution */

typedef struct {
  int64_t n, h, w, c, kh, kw, o, oh, ow, sh, sw, dh, dw, pt, pl;
} Geom;

static int get_geom(napi_env env, napi_value v, Geom *g) {
  Array a;
  if (!get_array(env, v, &a) || a.type != napi_int32_array || a.length < 15) return 0;
  const int32_t *p = a.data;
  g->n = p[0]; g->h = p[1]; g->w = p[2]; g->c = p[3]; g->kh = p[4]; g->kw = p[5]; g->o = p[6];
  g->oh = p[7]; g->ow = p[8]; g->sh = p[9]; g->sw = p[10]; g->dh = p[11]; g->dw = p[12];
  g->pt = p[13]; g->pl = p[14];
  for (int i = 0; i < 13; i++) if (p[i] < 0) return 0;
  return g->sh > 0 && g->sw > 0 && g->dh > 0 && g->dw > 0;
}

/*
 * The patch-matrix buffer, kept between calls (one per thread): a fresh malloc of tens of
 * MB per convolution costs a page fault per 4 KiB, which here is as slow as the im2col.
 */
static _Thread_local float *scratch = NULL;
static _Thread_local size_t scratch_floats = 0;

/* Gives back a patch buffer much larger than the budget (kept otherwise, for the next call). */
static void release_scratch(void) {
  if (scratch_floats > (size_t)(4 * col_budget)) {
    free(scratch);
    scratch = NULL;
    scratch_floats = 0;
  }
}

static float *scratch_buffer(size_t floats) {
  if (floats > scratch_floats) {
    free(scratch);
    scratch = malloc(sizeof(float) * floats);
    scratch_floats = scratch ? floats : 0;
  }
  return scratch;
}

/* Rows of the patch matrix at a time: within the budget, at least min_chunk_rows. */
static int64_t chunk_rows(int64_t rows, int64_t k) {
  int64_t r = k > 0 ? col_budget / k : rows;
  if (r < min_chunk_rows) {
    /* Long patch rows: min_chunk_rows of them, as long as that stays within 16× the budget. */
    const int64_t cap = k > 0 ? 16 * col_budget / k : rows;
    r = min_chunk_rows < cap ? min_chunk_rows : (cap > 0 ? cap : 1);
  }
  return r > rows ? rows : r;
}

/* Whether the patch matrix is x itself: 1×1 filter, unit stride, no padding. */
static int is_pointwise(const Geom *g) {
  return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->pt == 0 && g->pl == 0 && g->oh == g->h && g->ow == g->w;
}

/*
 * Output positions m0..m1 in row-major (n, oy, ox) order, without a division per row:
 * declares n, oy, ox for BODY and advances them.
 */
#define FOR_POSITIONS(g, m0, m1, BODY)                                           \
  do {                                                                           \
    const int64_t plane_ = (g)->oh * (g)->ow;                                    \
    int64_t n = (m0) / plane_, oy = ((m0) % plane_) / (g)->ow, ox = ((m0) % plane_) % (g)->ow; \
    for (int64_t m = (m0); m < (m1); m++) {                                      \
      BODY;                                                                      \
      if (++ox == (g)->ow) {                                                     \
        ox = 0;                                                                  \
        if (++oy == (g)->oh) {                                                   \
          oy = 0;                                                                \
          n++;                                                                   \
        }                                                                        \
      }                                                                          \
    }                                                                            \
  } while (0)

/* Patch rows m0..m1 of x: col[m - m0, (ky, kx, ci)] = x[n, oy*sh - pt + ky*dh, ox*sw - pl + kx*dw, ci] or 0. */
static void im2col(const Geom *g, const float *x, float *col, int64_t m0, int64_t m1) {
  const int64_t C = g->c, K = g->kh * g->kw * C;
  FOR_POSITIONS(g, m0, m1, {
    float *dst = col + (m - m0) * K;
    const int64_t x0 = ox * g->sw - g->pl;
    const int64_t xlast = x0 + (g->kw - 1) * g->dw;
    for (int64_t ky = 0; ky < g->kh; ky++, dst += g->kw * C) {
      const int64_t iy = oy * g->sh - g->pt + ky * g->dh;
      if (iy < 0 || iy >= g->h) {
        memset(dst, 0, sizeof(float) * (size_t)(g->kw * C));
        continue;
      }
      const float *row = x + ((n * g->h + iy) * g->w) * C;
      if (g->dw == 1 && x0 >= 0 && xlast < g->w) {
        memcpy(dst, row + x0 * C, sizeof(float) * (size_t)(g->kw * C));
        continue;
      }
      for (int64_t kx = 0; kx < g->kw; kx++) {
        const int64_t ix = x0 + kx * g->dw;
        if (ix < 0 || ix >= g->w) memset(dst + kx * C, 0, sizeof(float) * (size_t)C);
        else memcpy(dst + kx * C, row + ix * C, sizeof(float) * (size_t)C);
      }
    }
  });
}

/* dx[n, iy, ix, ci] += col[m - m0, (ky, kx, ci)] for patch rows m0..m1: the adjoint of im2col. */
static void col2im(const Geom *g, const float *col, float *dx, int64_t m0, int64_t m1) {
  const int64_t C = g->c, K = g->kh * g->kw * C;
  FOR_POSITIONS(g, m0, m1, {
    const float *src = col + (m - m0) * K;
    const int64_t x0 = ox * g->sw - g->pl;
    for (int64_t ky = 0; ky < g->kh; ky++, src += g->kw * C) {
      const int64_t iy = oy * g->sh - g->pt + ky * g->dh;
      if (iy < 0 || iy >= g->h) continue;
      float *row = dx + ((n * g->h + iy) * g->w) * C;
      for (int64_t kx = 0; kx < g->kw; kx++) {
        const int64_t ix = x0 + kx * g->dw;
        if (ix < 0 || ix >= g->w) continue;
        float *d = row + ix * C;
        const float *s = src + kx * C;
        for (int64_t ci = 0; ci < C; ci++) d[ci] += s[ci];
      }
    }
  });
}

/* Whether every tap of every output position lies inside x (no padding reached). */
static int interior(const Geom *g) {
  return g->pt == 0 && g->pl == 0 && g->oh > 0 && g->ow > 0 && (g->oh - 1) * g->sh + (g->kh - 1) * g->dh < g->h &&
         (g->ow - 1) * g->sw + (g->kw - 1) * g->dw < g->w;
}

/*
 * y[m, o] = Σ_k x[origin(m) + off[k]] · w[k, o] for interior geometries, O a compile-time
 * constant (DIRECT_O) so that the o loop unrolls; K = kh·kw·c ≤ 16 taps at offsets off[].
 */
#define DEFINE_DIRECT_INTERIOR(NAME, DIRECT_O)                                                    \
  static void NAME(const Geom *g, const float *x, const float *w, float *y, const int64_t *off, int64_t K) { \
    for (int64_t n = 0; n < g->n; n++)                                                            \
      for (int64_t oy = 0; oy < g->oh; oy++) {                                                   \
        const float *xrow = x + ((n * g->h + oy * g->sh) * g->w) * g->c;                         \
        float *yp = y + ((n * g->oh + oy) * g->ow) * (DIRECT_O);                                 \
        for (int64_t ox = 0; ox < g->ow; ox++, yp += (DIRECT_O)) {                               \
          const float *xo = xrow + ox * g->sw * g->c;                                            \
          float acc[DIRECT_O];                                                                   \
          for (int o = 0; o < (DIRECT_O); o++) acc[o] = 0.0f;                                    \
          for (int64_t k = 0; k < K; k++) {                                                      \
            const float v = xo[off[k]];                                                          \
            const float *wk = w + k * (DIRECT_O);                                                \
            for (int o = 0; o < (DIRECT_O); o++) acc[o] += v * wk[o];                            \
          }                                                                                      \
          for (int o = 0; o < (DIRECT_O); o++) yp[o] = acc[o];                                   \
        }                                                                                        \
      }                                                                                          \
  }
DEFINE_DIRECT_INTERIOR(direct_interior_1, 1)
DEFINE_DIRECT_INTERIOR(direct_interior_2, 2)
DEFINE_DIRECT_INTERIOR(direct_interior_4, 4)
DEFINE_DIRECT_INTERIOR(direct_interior_8, 8)

/* Element offsets of the taps (ky, kx, ci) from a patch's origin, in filter order. */
static int64_t tap_offsets(const Geom *g, int64_t *off) {
  int64_t k = 0;
  for (int64_t ky = 0; ky < g->kh; ky++)
    for (int64_t kx = 0; kx < g->kw; kx++)
      for (int64_t ci = 0; ci < g->c; ci++) off[k++] = (ky * g->dh * g->w + kx * g->dw) * g->c + ci;
  return k;
}

/*
 * Direct convolution for tiny filters (K = kh·kw·c ≤ 16 and O ≤ 16: the pooling-window
 * convolutions), where a patch matrix and an sgemm cost more than the arithmetic.
 */
static void conv_direct_small(const Geom *g, const float *x, const float *w, float *y) {
  const int64_t C = g->c, O = g->o, K = g->kh * g->kw * C;
  if (interior(g) && (O == 1 || O == 2 || O == 4 || O == 8)) {
    int64_t off[16];
    tap_offsets(g, off);
    if (O == 1) direct_interior_1(g, x, w, y, off, K);
    else if (O == 2) direct_interior_2(g, x, w, y, off, K);
    else if (O == 4) direct_interior_4(g, x, w, y, off, K);
    else direct_interior_8(g, x, w, y, off, K);
    return;
  }
  float patch[16];
  FOR_POSITIONS(g, 0, g->n * g->oh * g->ow, {
    float *p = patch;
    for (int64_t ky = 0; ky < g->kh; ky++) {
      const int64_t iy = oy * g->sh - g->pt + ky * g->dh;
      for (int64_t kx = 0; kx < g->kw; kx++, p += C) {
        const int64_t ix = ox * g->sw - g->pl + kx * g->dw;
        if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w) {
          for (int64_t ci = 0; ci < C; ci++) p[ci] = 0.0f;
        } else {
          const float *xp = x + ((n * g->h + iy) * g->w + ix) * C;
          for (int64_t ci = 0; ci < C; ci++) p[ci] = xp[ci];
        }
      }
    }
    float *yp = y + m * O;
    for (int64_t o = 0; o < O; o++) {
      float acc = 0.0f;
      for (int64_t k = 0; k < K; k++) acc += patch[k] * w[k * O + o];
      yp[o] = acc;
    }
  });
}

/*
 * The adjoint of conv_direct_small with respect to x: dx (zeroed by the caller) += taps of
 * dy·wᵀ; interior geometries with a compile-time O take the unrolled path.
 */
#define DEFINE_BACKPROP_INTERIOR(NAME, DIRECT_O)                                                  \
  static void NAME(const Geom *g, const float *dy, const float *w, float *dx, const int64_t *off, int64_t K) { \
    for (int64_t n = 0; n < g->n; n++)                                                            \
      for (int64_t oy = 0; oy < g->oh; oy++) {                                                   \
        float *xrow = dx + ((n * g->h + oy * g->sh) * g->w) * g->c;                              \
        const float *dyp = dy + ((n * g->oh + oy) * g->ow) * (DIRECT_O);                         \
        for (int64_t ox = 0; ox < g->ow; ox++, dyp += (DIRECT_O)) {                              \
          float *xo = xrow + ox * g->sw * g->c;                                                  \
          for (int64_t k = 0; k < K; k++) {                                                      \
            const float *wk = w + k * (DIRECT_O);                                                \
            float acc = 0.0f;                                                                    \
            for (int o = 0; o < (DIRECT_O); o++) acc += dyp[o] * wk[o];                          \
            xo[off[k]] += acc;                                                                   \
          }                                                                                      \
        }                                                                                        \
      }                                                                                          \
  }
DEFINE_BACKPROP_INTERIOR(backprop_interior_1, 1)
DEFINE_BACKPROP_INTERIOR(backprop_interior_2, 2)
DEFINE_BACKPROP_INTERIOR(backprop_interior_4, 4)
DEFINE_BACKPROP_INTERIOR(backprop_interior_8, 8)

static void conv_backprop_input_small(const Geom *g, const float *dy, const float *w, float *dx) {
  const int64_t C = g->c, O = g->o;
  if (interior(g) && (O == 1 || O == 2 || O == 4 || O == 8)) {
    int64_t off[16];
    const int64_t K = tap_offsets(g, off);
    if (O == 1) backprop_interior_1(g, dy, w, dx, off, K);
    else if (O == 2) backprop_interior_2(g, dy, w, dx, off, K);
    else if (O == 4) backprop_interior_4(g, dy, w, dx, off, K);
    else backprop_interior_8(g, dy, w, dx, off, K);
    return;
  }
  FOR_POSITIONS(g, 0, g->n * g->oh * g->ow, {
    const float *dyp = dy + m * O;
    const float *wp = w;
    for (int64_t ky = 0; ky < g->kh; ky++) {
      const int64_t iy = oy * g->sh - g->pt + ky * g->dh;
      for (int64_t kx = 0; kx < g->kw; kx++, wp += C * O) {
        const int64_t ix = ox * g->sw - g->pl + kx * g->dw;
        if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w) continue;
        float *d = dx + ((n * g->h + iy) * g->w + ix) * C;
        for (int64_t ci = 0; ci < C; ci++) {
          float acc = 0.0f;
          for (int64_t o = 0; o < O; o++) acc += dyp[o] * wp[ci * O + o];
          d[ci] += acc;
        }
      }
    }
  });
}

static int small_filter(const Geom *g) {
  return g->kh * g->kw * g->c <= 16 && g->o <= 16;
}

static napi_value conv_args(napi_env env, napi_callback_info cbi, Array *p, Array *q, Array *r, Geom *g) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, cbi, &argc, argv, NULL, NULL));
  if (argc < 4 || !get_f32(env, argv[0], p) || !get_f32(env, argv[1], q) || !get_f32(env, argv[2], r)) FAIL("conv: three Float32Arrays and a geometry expected");
  if (!get_geom(env, argv[3], g)) FAIL("conv: bad geometry (Int32Array of 15 non-negative sizes)");
  napi_value ok;
  CHECK(napi_get_boolean(env, true, &ok));
  return ok;
}

static int sizes_ok(const Geom *g, size_t xlen, size_t wlen, size_t ylen) {
  return (size_t)(g->n * g->h * g->w * g->c) <= xlen && (size_t)(g->kh * g->kw * g->c * g->o) <= wlen && (size_t)(g->n * g->oh * g->ow * g->o) <= ylen;
}

/* y[N, OH, OW, O] = patches(x)[M, K] · w[K, O], M = N·OH·OW, K = KH·KW·C. */
static napi_value conv2d(napi_env env, napi_callback_info cbi) {
  Array xa, wa, ya;
  Geom g;
  if (!conv_args(env, cbi, &xa, &wa, &ya, &g)) return NULL;
  if (!sizes_ok(&g, xa.length, wa.length, ya.length)) FAIL("conv2d: arrays too short for the geometry");
  const float *x = xa.data, *w = wa.data;
  float *y = ya.data;
  const int64_t M = g.n * g.oh * g.ow, K = g.kh * g.kw * g.c, O = g.o;
  if (M == 0 || O == 0) return NULL;
  if (K == 0) {
    memset(y, 0, sizeof(float) * (size_t)(M * O));
    return NULL;
  }
  if (is_pointwise(&g)) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)M, (int)O, (int)K, 1.0f, x, (int)K, w, (int)O, 0.0f, y, (int)O);
    return NULL;
  }
  if (small_filter(&g)) {
    conv_direct_small(&g, x, w, y);
    return NULL;
  }
  const int64_t rows = chunk_rows(M, K);
  float *col = scratch_buffer((size_t)(rows * K));
  if (!col) FAIL("conv2d: out of memory");
  for (int64_t m0 = 0; m0 < M; m0 += rows) {
    const int64_t m1 = m0 + rows < M ? m0 + rows : M;
    im2col(&g, x, col, m0, m1);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(m1 - m0), (int)O, (int)K, 1.0f, col, (int)K, w, (int)O, 0.0f, y + m0 * O, (int)O);
  }
  release_scratch();
  return NULL;
}

/* dx = col2im(dy[M, O] · wᵀ[O, K]). */
static napi_value conv2d_backprop_input(napi_env env, napi_callback_info cbi) {
  Array dya, wa, dxa;
  Geom g;
  if (!conv_args(env, cbi, &dya, &wa, &dxa, &g)) return NULL;
  if (!sizes_ok(&g, dxa.length, wa.length, dya.length)) FAIL("conv2dBackpropInput: arrays too short for the geometry");
  const float *dy = dya.data, *w = wa.data;
  float *dx = dxa.data;
  const int64_t M = g.n * g.oh * g.ow, K = g.kh * g.kw * g.c, O = g.o;
  const size_t xsize = (size_t)(g.n * g.h * g.w * g.c);
  if (is_pointwise(&g) && M > 0 && K > 0 && O > 0) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)M, (int)K, (int)O, 1.0f, dy, (int)O, w, (int)O, 0.0f, dx, (int)K);
    return NULL;
  }
  memset(dx, 0, sizeof(float) * xsize);
  if (M == 0 || K == 0 || O == 0) return NULL;
  if (small_filter(&g)) {
    conv_backprop_input_small(&g, dy, w, dx);
    return NULL;
  }
  const int64_t rows = chunk_rows(M, K);
  float *col = scratch_buffer((size_t)(rows * K));
  if (!col) FAIL("conv2dBackpropInput: out of memory");
  for (int64_t m0 = 0; m0 < M; m0 += rows) {
    const int64_t m1 = m0 + rows < M ? m0 + rows : M;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(m1 - m0), (int)K, (int)O, 1.0f, dy + m0 * O, (int)O, w, (int)O, 0.0f, col, (int)K);
    col2im(&g, col, dx, m0, m1);
  }
  release_scratch();
  return NULL;
}

/* dw[K, O] = patches(x)ᵀ[K, M] · dy[M, O]. */
static napi_value conv2d_backprop_filter(napi_env env, napi_callback_info cbi) {
  Array xa, dya, dwa;
  Geom g;
  if (!conv_args(env, cbi, &xa, &dya, &dwa, &g)) return NULL;
  if (!sizes_ok(&g, xa.length, dwa.length, dya.length)) FAIL("conv2dBackpropFilter: arrays too short for the geometry");
  const float *x = xa.data, *dy = dya.data;
  float *dw = dwa.data;
  const int64_t M = g.n * g.oh * g.ow, K = g.kh * g.kw * g.c, O = g.o;
  memset(dw, 0, sizeof(float) * (size_t)(K * O));
  if (M == 0 || K == 0 || O == 0) return NULL;
  if (is_pointwise(&g)) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)K, (int)O, (int)M, 1.0f, x, (int)K, dy, (int)O, 0.0f, dw, (int)O);
    return NULL;
  }
  const int64_t rows = chunk_rows(M, K);
  float *col = scratch_buffer((size_t)(rows * K));
  if (!col) FAIL("conv2dBackpropFilter: out of memory");
  for (int64_t m0 = 0; m0 < M; m0 += rows) {
    const int64_t m1 = m0 + rows < M ? m0 + rows : M;
    im2col(&g, x, col, m0, m1);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)K, (int)O, (int)(m1 - m0), 1.0f, col, (int)K, dy + m0 * O, (int)O, 1.0f, dw, (int)O);
  }
  release_scratch();
  return NULL;
}

/* ------------------------------------------------------------------ transpose */

#define MAX_RANK 8

/*
 * out = x with axes permuted (out axis i is x axis perm[i]), for 4-byte elements.
 *
 * Size-1 axes are dropped and output axes that are consecutive in x merged; if x's
 * innermost axis stays innermost, rows are copied whole, otherwise the two innermost
 * axes (x's and out's) are transposed in 32×32 tiles for cache locality.
 */
static void transpose_u32(const uint32_t *x, uint32_t *out, int rank, const int64_t *shape, const int32_t *perm) {
  int64_t inStride[MAX_RANK], size = 1;
  for (int i = rank - 1; i >= 0; i--) {
    inStride[i] = size;
    size *= shape[i];
  }
  if (size == 0) return;
  /* Simplified output axes: extent and stride in x. */
  int64_t ext[MAX_RANK], str[MAX_RANK];
  int r = 0;
  int prev = -2;
  for (int i = 0; i < rank; i++) {
    const int p = perm[i];
    if (shape[p] == 1) continue;
    if (r > 0 && p == prev + 1) {
      ext[r - 1] *= shape[p];
      str[r - 1] = inStride[p];
    } else {
      ext[r] = shape[p];
      str[r] = inStride[p];
      r++;
    }
    prev = p;
  }
  if (r == 0 || (r == 1 && str[0] == 1)) {
    memcpy(out, x, sizeof(uint32_t) * (size_t)size);
    return;
  }
  int64_t outStride[MAX_RANK], s = 1;
  for (int i = r - 1; i >= 0; i--) {
    outStride[i] = s;
    s *= ext[i];
  }
  if (str[r - 1] == 1) {
    /* Whole rows: odometer over the outer output axes. */
    int64_t idx[MAX_RANK] = {0}, src = 0;
    const int64_t inner = ext[r - 1];
    for (int64_t o = 0; o < size; o += inner) {
      memcpy(out + o, x + src, sizeof(uint32_t) * (size_t)inner);
      for (int d = r - 2; d >= 0; d--) {
        src += str[d];
        if (++idx[d] < ext[d]) break;
        src -= str[d] * ext[d];
        idx[d] = 0;
      }
    }
    return;
  }
  /* q: the output axis that is x's innermost (stride 1). Tile axes q and r-1. */
  int q = 0;
  for (int i = 0; i < r; i++) if (str[i] == 1) q = i;
  const int64_t nq = ext[q], nl = ext[r - 1], sl = str[r - 1], oq = outStride[q];
  int64_t idx[MAX_RANK] = {0}, src = 0, dst = 0;
  const int64_t outer = size / (nq * nl);
  enum { T = 32 };
  for (int64_t b = 0; b < outer; b++) {
    for (int64_t i0 = 0; i0 < nq; i0 += T) {
      const int64_t i1 = i0 + T < nq ? i0 + T : nq;
      for (int64_t j0 = 0; j0 < nl; j0 += T) {
        const int64_t j1 = j0 + T < nl ? j0 + T : nl;
        for (int64_t i = i0; i < i1; i++) {
          const uint32_t *xs = x + src + i;
          uint32_t *os = out + dst + i * oq;
          for (int64_t j = j0; j < j1; j++) os[j] = xs[j * sl];
        }
      }
    }
    /* Next outer index: odometer over the axes other than q and r-1. */
    for (int d = r - 2; d >= 0; d--) {
      if (d == q) continue;
      src += str[d];
      dst += outStride[d];
      if (++idx[d] < ext[d]) break;
      src -= str[d] * ext[d];
      dst -= outStride[d] * ext[d];
      idx[d] = 0;
    }
  }
}

static napi_value transpose(napi_env env, napi_callback_info cbi) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, cbi, &argc, argv, NULL, NULL));
  Array xa, oa, sa, pa;
  if (argc < 4 || !get_array(env, argv[0], &xa) || !get_array(env, argv[1], &oa) || !get_array(env, argv[2], &sa) || !get_array(env, argv[3], &pa))
    FAIL("transpose(x, out, shape, perm): typed arrays expected");
  if (sa.type != napi_int32_array || pa.type != napi_int32_array || sa.length != pa.length || sa.length > MAX_RANK) FAIL("transpose: shape and perm must be Int32Arrays of equal rank ≤ 8");
  const int esize = (xa.type == napi_float32_array || xa.type == napi_int32_array || xa.type == napi_uint32_array) ? 4 : 0;
  if (esize == 0 || oa.type != xa.type) FAIL("transpose: x and out must be 4-byte typed arrays of one type");
  const int rank = (int)sa.length;
  const int32_t *shape32 = sa.data, *perm = pa.data;
  int64_t shape[MAX_RANK], size = 1;
  int seen = 0;
  for (int i = 0; i < rank; i++) {
    if (shape32[i] < 0) FAIL("transpose: negative size");
    shape[i] = shape32[i];
    size *= shape[i];
    if (perm[i] < 0 || perm[i] >= rank || (seen & (1 << perm[i]))) FAIL("transpose: bad permutation");
    seen |= 1 << perm[i];
  }
  if ((size_t)size > xa.length || (size_t)size > oa.length) FAIL("transpose: arrays too short");
  if (size == 0) return NULL;
  if (rank == 0) {
    ((uint32_t *)oa.data)[0] = ((const uint32_t *)xa.data)[0];
    return NULL;
  }
  transpose_u32(xa.data, oa.data, rank, shape, perm);
  return NULL;
}

/* ------------------------------------------------------------------ elementwise */

enum { OP_ADD = 0, OP_SUB = 1, OP_MUL = 2, OP_DIV = 3, OP_MAX = 4, OP_MIN = 5, OP_SQDIFF = 6 };

#define BINARY_LOOP(EXPR)                                                                   \
  do {                                                                                      \
    if (sa == 1 && sb == 1) for (int64_t j = 0; j < inner; j++) { float u = pa[j], v = pb[j]; po[j] = (EXPR); } \
    else if (sa == 1 && sb == 0) { float v = pb[0]; for (int64_t j = 0; j < inner; j++) { float u = pa[j]; po[j] = (EXPR); } } \
    else if (sa == 0 && sb == 1) { float u = pa[0]; for (int64_t j = 0; j < inner; j++) { float v = pb[j]; po[j] = (EXPR); } } \
    else for (int64_t j = 0; j < inner; j++) { float u = pa[j * sa], v = pb[j * sb]; po[j] = (EXPR); } \
  } while (0)

MULTIVERSION static void binary_inner(int op, const float *pa, int64_t sa, const float *pb, int64_t sb, float *po, int64_t inner) {
  switch (op) {
    case OP_ADD: BINARY_LOOP(u + v); break;
    case OP_SUB: BINARY_LOOP(u - v); break;
    case OP_MUL: BINARY_LOOP(u * v); break;
    case OP_DIV: BINARY_LOOP(u / v); break;
    /* tfjs: NaN-propagating max/min (Math.max semantics). */
    case OP_MAX: BINARY_LOOP((u != u || v != v) ? NAN : (u > v ? u : v)); break;
    case OP_MIN: BINARY_LOOP((u != u || v != v) ? NAN : (u < v ? u : v)); break;
    case OP_SQDIFF: BINARY_LOOP((float)(((double)u - (double)v) * ((double)u - (double)v))); break;
  }
}

/* out[i] = a[i·aStrides] op b[i·bStrides] over outShape (strides 0 on broadcast axes). */
static napi_value binary(napi_env env, napi_callback_info cbi) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(napi_get_cb_info(env, cbi, &argc, argv, NULL, NULL));
  int64_t op;
  Array aa, ba, oa, sh, as, bs;
  if (argc < 7 || !get_i32(env, argv[0], &op) || !get_f32(env, argv[1], &aa) || !get_f32(env, argv[2], &ba) || !get_f32(env, argv[3], &oa) ||
      !get_array(env, argv[4], &sh) || !get_array(env, argv[5], &as) || !get_array(env, argv[6], &bs))
    FAIL("binary(op, a, b, out, outShape, aStrides, bStrides): bad arguments");
  if (op < OP_ADD || op > OP_SQDIFF) FAIL("binary: unknown op");
  if (sh.type != napi_int32_array || as.type != napi_int32_array || bs.type != napi_int32_array || sh.length != as.length || sh.length != bs.length ||
      sh.length > MAX_RANK || sh.length == 0)
    FAIL("binary: shape and strides must be Int32Arrays of one rank, 1..8");
  const int rank = (int)sh.length;
  const int32_t *shape = sh.data, *sa_ = as.data, *sb_ = bs.data;
  int64_t size = 1, amax = 0, bmax = 0;
  for (int i = 0; i < rank; i++) {
    if (shape[i] < 0 || sa_[i] < 0 || sb_[i] < 0) FAIL("binary: negative size or stride");
    size *= shape[i];
    if (shape[i] > 0) {
      amax += (int64_t)sa_[i] * (shape[i] - 1);
      bmax += (int64_t)sb_[i] * (shape[i] - 1);
    }
  }
  if (size == 0) return NULL;
  if ((size_t)size > oa.length || (size_t)amax >= aa.length || (size_t)bmax >= ba.length) FAIL("binary: arrays too short");
  const float *a = aa.data, *b = ba.data;
  float *out = oa.data;
  const int64_t inner = shape[rank - 1], sa = sa_[rank - 1], sb = sb_[rank - 1];
  int64_t idx[MAX_RANK] = {0}, ia = 0, ib = 0;
  for (int64_t o = 0; o < size; o += inner) {
    binary_inner((int)op, a + ia, sa, b + ib, sb, out + o, inner);
    for (int d = rank - 2; d >= 0; d--) {
      idx[d]++;
      ia += sa_[d];
      ib += sb_[d];
      if (idx[d] < shape[d]) break;
      ia -= (int64_t)sa_[d] * shape[d];
      ib -= (int64_t)sb_[d] * shape[d];
      idx[d] = 0;
    }
  }
  return NULL;
}

enum { U_TANH = 0, U_EXP = 1, U_LOG = 2, U_SIGMOID = 3, U_RELU = 4, U_NEG = 5, U_SQUARE = 6, U_STEP = 7 };

/*
 * tanh in float32 by a rational approximation (Eigen's generic_fast_tanh_float: odd
 * degree-13 over even degree-6, clamped at ±7.9053): at most 6 ulp from the correctly
 * rounded value (every 7th float checked), and vectorizable. libm's tanh costs ~20 ns.
 */
static inline float fast_tanh(float x) {
  const float c = 7.90531110763549805f;
  float xc = x > c ? c : x;
  xc = xc < -c ? -c : xc;
  const float x2 = xc * xc;
  float p = -2.76076847742355e-16f;
  p = p * x2 + 2.00018790482477e-13f;
  p = p * x2 + -8.60467152213735e-11f;
  p = p * x2 + 5.12229709037114e-08f;
  p = p * x2 + 1.48572235717979e-05f;
  p = p * x2 + 6.37261928875436e-04f;
  p = p * x2 + 4.89352455891786e-03f;
  p = p * xc;
  float q = 1.19825839466702e-06f;
  q = q * x2 + 1.18534705686654e-04f;
  q = q * x2 + 2.26843463243900e-03f;
  q = q * x2 + 4.89352518554385e-03f;
  const float r = p / q;
  return fabsf(x) < 0.0004f ? x : r;
}

MULTIVERSION static void tanh_loop(const float *x, float *o, size_t n) {
  for (size_t i = 0; i < n; i++) o[i] = fast_tanh(x[i]);
}

/* Elementwise float32 x → out; other than tanh, evaluated as tfjs's cpu backend does (Math.* in double). */
static napi_value unary(napi_env env, napi_callback_info cbi) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, cbi, &argc, argv, NULL, NULL));
  int64_t op;
  Array xa, oa;
  if (argc < 3 || !get_i32(env, argv[0], &op) || !get_f32(env, argv[1], &xa) || !get_f32(env, argv[2], &oa) || oa.length < xa.length)
    FAIL("unary(op, x, out): bad arguments");
  const float *x = xa.data;
  float *o = oa.data;
  const size_t n = xa.length;
  switch (op) {
    case U_TANH: tanh_loop(x, o, n); break;
    case U_EXP: for (size_t i = 0; i < n; i++) o[i] = (float)exp((double)x[i]); break;
    case U_LOG: for (size_t i = 0; i < n; i++) o[i] = (float)log((double)x[i]); break;
    case U_SIGMOID: for (size_t i = 0; i < n; i++) o[i] = (float)(1.0 / (1.0 + exp(-(double)x[i]))); break;
    case U_RELU: for (size_t i = 0; i < n; i++) { float v = x[i]; o[i] = v > 0.0f ? v : (v != v ? v : 0.0f); } break; /* Math.max(0, v) */
    case U_NEG: for (size_t i = 0; i < n; i++) o[i] = -x[i]; break;
    case U_SQUARE: for (size_t i = 0; i < n; i++) o[i] = x[i] * x[i]; break;
    case U_STEP: for (size_t i = 0; i < n; i++) { float v = x[i]; o[i] = v != v ? NAN : (v > 0.0f ? 1.0f : 0.0f); } break;
    default: FAIL("unary: unknown op");
  }
  return NULL;
}

/* out[r] = Σ_c x[r·cols + c], accumulated in float64 (as tfjs's cpu Sum). */
static napi_value sum_rows(napi_env env, napi_callback_info cbi) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, cbi, &argc, argv, NULL, NULL));
  Array xa, oa;
  int64_t rows, cols;
  if (argc < 4 || !get_f32(env, argv[0], &xa) || !get_f32(env, argv[1], &oa) || !get_i32(env, argv[2], &rows) || !get_i32(env, argv[3], &cols) || rows < 0 ||
      cols < 0)
    FAIL("sumRows(x, out, rows, cols): bad arguments");
  if ((size_t)(rows * cols) > xa.length || (size_t)rows > oa.length) FAIL("sumRows: arrays too short");
  const float *x = xa.data;
  float *o = oa.data;
  for (int64_t r = 0; r < rows; r++) {
    const float *p = x + r * cols;
    double s = 0.0;
    for (int64_t c = 0; c < cols; c++) s += p[c];
    o[r] = (float)s;
  }
  return NULL;
}

/* out[r] = the first j with x[r, j] = max_j x[r, j] (NaN never wins), as tfjs's cpu ArgMax. */
static napi_value arg_max_rows(napi_env env, napi_callback_info cbi) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, cbi, &argc, argv, NULL, NULL));
  Array xa, oa;
  int64_t rows, cols;
  if (argc < 4 || !get_f32(env, argv[0], &xa) || !get_array(env, argv[1], &oa) || oa.type != napi_int32_array || !get_i32(env, argv[2], &rows) ||
      !get_i32(env, argv[3], &cols) || rows < 0 || cols < 1)
    FAIL("argMaxRows(x, out: Int32Array, rows, cols): bad arguments");
  if ((size_t)(rows * cols) > xa.length || (size_t)rows > oa.length) FAIL("argMaxRows: arrays too short");
  const float *x = xa.data;
  int32_t *o = oa.data;
  for (int64_t r = 0; r < rows; r++) {
    const float *p = x + r * cols;
    float best = p[0];
    int32_t at = 0;
    for (int64_t c = 0; c < cols; c++) {
      if (p[c] > best) {
        best = p[c];
        at = (int32_t)c;
      }
    }
    o[r] = at;
  }
  return NULL;
}

/* out[i, d] = on if indices[i] = d else off (indices outside 0..depth-1: a row of off). */
static napi_value one_hot(napi_env env, napi_callback_info cbi) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, cbi, &argc, argv, NULL, NULL));
  Array ia, oa;
  int64_t depth;
  double on, off;
  if (argc < 5 || !get_array(env, argv[0], &ia) || ia.type != napi_int32_array || !get_f32(env, argv[1], &oa) || !get_i32(env, argv[2], &depth) || depth < 0 ||
      napi_get_value_double(env, argv[3], &on) != napi_ok || napi_get_value_double(env, argv[4], &off) != napi_ok)
    FAIL("oneHot(indices: Int32Array, out, depth, on, off): bad arguments");
  if ((size_t)depth * ia.length > oa.length) FAIL("oneHot: out too short");
  const int32_t *idx = ia.data;
  float *o = oa.data;
  const float fon = (float)on, foff = (float)off;
  for (size_t i = 0; i < ia.length; i++) {
    float *row = o + i * (size_t)depth;
    for (int64_t d = 0; d < depth; d++) row[d] = foff;
    if (idx[i] >= 0 && idx[i] < depth) row[idx[i]] = fon;
  }
  return NULL;
}

/*
 * out[c] = Σ_r x[r·cols + c] in float64, r ascending: the same additions in the same order as
 * tfjs's cpu Sum over leading axes (which transposes, then sums each row), without the transpose.
 */
static napi_value sum_columns(napi_env env, napi_callback_info cbi) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, cbi, &argc, argv, NULL, NULL));
  Array xa, oa;
  int64_t rows, cols;
  if (argc < 4 || !get_f32(env, argv[0], &xa) || !get_f32(env, argv[1], &oa) || !get_i32(env, argv[2], &rows) || !get_i32(env, argv[3], &cols) || rows < 0 ||
      cols < 0)
    FAIL("sumColumns(x, out, rows, cols): bad arguments");
  if ((size_t)(rows * cols) > xa.length || (size_t)cols > oa.length) FAIL("sumColumns: arrays too short");
  double *acc = calloc(cols > 0 ? (size_t)cols : 1, sizeof(double));
  if (!acc) FAIL("sumColumns: out of memory");
  const float *x = xa.data;
  for (int64_t r = 0; r < rows; r++) {
    const float *p = x + r * cols;
    for (int64_t c = 0; c < cols; c++) acc[c] += p[c];
  }
  float *o = oa.data;
  for (int64_t c = 0; c < cols; c++) o[c] = (float)acc[c];
  free(acc);
  return NULL;
}

/*
 * Max pooling's maximisers (NHWC): out[n, i, j, c] = the flat index into x of the first
 * maximum of the window (rows, then columns; cells in the padding never count; the first
 * real cell is taken when every value is NaN).
 */
static napi_value max_pool_argmax(napi_env env, napi_callback_info cbi) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, cbi, &argc, argv, NULL, NULL));
  Array xa, oa, ga;
  if (argc < 3 || !get_f32(env, argv[0], &xa) || !get_array(env, argv[1], &oa) || oa.type != napi_int32_array || !get_array(env, argv[2], &ga) ||
      ga.type != napi_int32_array || ga.length != 12)
    FAIL("maxPoolArgmax(x, out: Int32Array, pool: Int32Array(12)): bad arguments");
  const int32_t *g = ga.data;
  const int64_t n = g[0], h = g[1], w = g[2], c = g[3], kh = g[4], kw = g[5], oh = g[6], ow = g[7], sh = g[8], sw = g[9], pt = g[10], pl = g[11];
  if (n < 0 || h < 1 || w < 1 || c < 1 || kh < 1 || kw < 1 || oh < 0 || ow < 0 || sh < 1 || sw < 1) FAIL("maxPoolArgmax: bad geometry");
  if ((size_t)(n * h * w * c) > xa.length || (size_t)(n * oh * ow * c) > oa.length || n * h * w * c >= INT32_MAX) FAIL("maxPoolArgmax: arrays too short or too long");
  const float *x = xa.data;
  int32_t *out = oa.data;
  for (int64_t b = 0; b < n; b++) {
    for (int64_t i = 0; i < oh; i++) {
      const int64_t r0 = i * sh - pt;
      const int64_t a0 = r0 < 0 ? -r0 : 0, a1 = r0 + kh > h ? h - r0 : kh;
      for (int64_t j = 0; j < ow; j++) {
        const int64_t c0 = j * sw - pl;
        const int64_t b0 = c0 < 0 ? -c0 : 0, b1 = c0 + kw > w ? w - c0 : kw;
        int32_t *o = out + ((b * oh + i) * ow + j) * c;
        const int64_t first = ((b * h + r0 + a0) * w + c0 + b0) * c;
        for (int64_t ch = 0; ch < c; ch++) o[ch] = (int32_t)(first + ch);
        for (int64_t a = a0; a < a1; a++) {
          for (int64_t bb = b0; bb < b1; bb++) {
            const int64_t base = ((b * h + r0 + a) * w + c0 + bb) * c;
            const float *p = x + base;
            for (int64_t ch = 0; ch < c; ch++) {
              if (p[ch] > x[o[ch]]) o[ch] = (int32_t)(base + ch);
            }
          }
        }
      }
    }
  }
  return NULL;
}

/* out[i] = x[indices[i]] (indices checked). */
static napi_value gather_flat(napi_env env, napi_callback_info cbi) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, cbi, &argc, argv, NULL, NULL));
  Array xa, ia, oa;
  if (argc < 3 || !get_f32(env, argv[0], &xa) || !get_array(env, argv[1], &ia) || ia.type != napi_int32_array || !get_f32(env, argv[2], &oa))
    FAIL("gatherFlat(x, indices: Int32Array, out): bad arguments");
  if (ia.length > oa.length) FAIL("gatherFlat: out too short");
  const float *x = xa.data;
  const int32_t *idx = ia.data;
  float *o = oa.data;
  for (size_t i = 0; i < ia.length; i++) {
    if (idx[i] < 0 || (size_t)idx[i] >= xa.length) FAIL("gatherFlat: index out of range");
    o[i] = x[idx[i]];
  }
  return NULL;
}

/* out[indices[i]] += dy[i], i ascending (out zeroed by the caller; indices checked). */
static napi_value scatter_add_flat(napi_env env, napi_callback_info cbi) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, cbi, &argc, argv, NULL, NULL));
  Array da, ia, oa;
  if (argc < 3 || !get_f32(env, argv[0], &da) || !get_array(env, argv[1], &ia) || ia.type != napi_int32_array || !get_f32(env, argv[2], &oa))
    FAIL("scatterAddFlat(dy, indices: Int32Array, out): bad arguments");
  if (ia.length > da.length) FAIL("scatterAddFlat: dy too short");
  const float *dy = da.data;
  const int32_t *idx = ia.data;
  float *o = oa.data;
  for (size_t i = 0; i < ia.length; i++) {
    if (idx[i] < 0 || (size_t)idx[i] >= oa.length) FAIL("scatterAddFlat: index out of range");
    o[idx[i]] += dy[i];
  }
  return NULL;
}

/* out[i] = (1 − a[i]²)·t[i], rounded as Square, Sub, Mul in float32 (no contraction). */
static napi_value tanh_slope(napi_env env, napi_callback_info cbi) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, cbi, &argc, argv, NULL, NULL));
  Array aa, ta, oa;
  if (argc < 3 || !get_f32(env, argv[0], &aa) || !get_f32(env, argv[1], &ta) || !get_f32(env, argv[2], &oa) || ta.length != aa.length || oa.length < aa.length)
    FAIL("tanhSlope(a, t, out): bad arguments");
  const float *a = aa.data, *t = ta.data;
  float *o = oa.data;
  for (size_t i = 0; i < aa.length; i++) {
    const float sq = a[i] * a[i];
    const float d = 1.0f - sq;
    o[i] = d * t[i];
  }
  return NULL;
}

/* out[i] = −2·a[i]·t[i]·g[i], rounded left to right in float32. */
static napi_value tanh_curvature(napi_env env, napi_callback_info cbi) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, cbi, &argc, argv, NULL, NULL));
  Array aa, ta, ga, oa;
  if (argc < 4 || !get_f32(env, argv[0], &aa) || !get_f32(env, argv[1], &ta) || !get_f32(env, argv[2], &ga) || !get_f32(env, argv[3], &oa) || ta.length != aa.length ||
      ga.length != aa.length || oa.length < aa.length)
    FAIL("tanhCurvature(a, t, g, out): bad arguments");
  const float *a = aa.data, *t = ta.data, *g = ga.data;
  float *o = oa.data;
  for (size_t i = 0; i < aa.length; i++) {
    const float at = -2.0f * a[i];
    const float att = at * t[i];
    o[i] = att * g[i];
  }
  return NULL;
}

/* ------------------------------------------------------------------ module */

static napi_value init(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"info", NULL, info, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setThreads", NULL, set_threads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setChunking", NULL, set_chunking, NULL, NULL, NULL, napi_enumerable, NULL},
      {"batchMatMul", NULL, batch_mat_mul, NULL, NULL, NULL, napi_enumerable, NULL},
      {"conv2d", NULL, conv2d, NULL, NULL, NULL, napi_enumerable, NULL},
      {"conv2dBackpropInput", NULL, conv2d_backprop_input, NULL, NULL, NULL, napi_enumerable, NULL},
      {"conv2dBackpropFilter", NULL, conv2d_backprop_filter, NULL, NULL, NULL, napi_enumerable, NULL},
      {"transpose", NULL, transpose, NULL, NULL, NULL, napi_enumerable, NULL},
      {"binary", NULL, binary, NULL, NULL, NULL, napi_enumerable, NULL},
      {"unary", NULL, unary, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sumRows", NULL, sum_rows, NULL, NULL, NULL, napi_enumerable, NULL},
      {"argMaxRows", NULL, arg_max_rows, NULL, NULL, NULL, napi_enumerable, NULL},
      {"oneHot", NULL, one_hot, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sumColumns", NULL, sum_columns, NULL, NULL, NULL, napi_enumerable, NULL},
      {"maxPoolArgmax", NULL, max_pool_argmax, NULL, NULL, NULL, napi_enumerable, NULL},
      {"gatherFlat", NULL, gather_flat, NULL, NULL, NULL, napi_enumerable, NULL},
      {"scatterAddFlat", NULL, scatter_add_flat, NULL, NULL, NULL, napi_enumerable, NULL},
      {"tanhSlope", NULL, tanh_slope, NULL, NULL, NULL, napi_enumerable, NULL},
      {"tanhCurvature", NULL, tanh_curvature, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
