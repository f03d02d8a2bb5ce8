/* imgproc overlay (CPU twin) against an independent painter: random boxes, fills, polygons and
 * texts (partly outside the frame, odd sizes, padded pitches) drawn in order on NV12, RGB24,
 * BGR24 and GRAY8 frames;
 * every byte of the buffers must match (pixels within 1e-3 of a polygon's edge distance are
 * left out, since float and double may disagree there). Also label placement and bad ops. */
#include "test_imgproc_common.h"

#include "imgproc/imgproc_internal.h" /* the GPU algorithm's host emulation */

extern const uint8_t vg_font8x16[95][16]; /* the font table itself is data, not code under test */

static int rnd(double v) {
  return (int)floor(v + 0.5);
}

/* mask: 1 painted, 2 unsure (edge of a polygon), 0 not painted. */
static void ref_mask(const vg_draw_op *op, int W, int H, uint8_t *mask, bool bg) {
  memset(mask, 0, (size_t)W * H);
  for (int y = 0; y < H; y++) {
    for (int x = 0; x < W; x++) {
      uint8_t m = 0;
      if (op->kind == VG_DRAW_FILL || op->kind == VG_DRAW_BOX) {
        int x1 = rnd(op->box.x1), y1 = rnd(op->box.y1), x2 = rnd(op->box.x2), y2 = rnd(op->box.y2);
        int t = op->kind == VG_DRAW_BOX ? op->thickness : 1 << 20;
        m = x >= x1 && x < x2 && y >= y1 && y < y2 &&
            (x < x1 + t || x >= x2 - t || y < y1 + t || y >= y2 - t);
      } else if (op->kind == VG_DRAW_POLYGON) {
        double hw2 = op->thickness * op->thickness / 4.0;
        int certain = 0, maybe = 0;
        for (int k = 0; k < op->npoints; k++) {
          double ax = op->px[k], ay = op->py[k];
          double bx = op->px[(k + 1) % op->npoints], by = op->py[(k + 1) % op->npoints];
          double dx = bx - ax, dy = by - ay, px = x + 0.5 - ax, py = y + 0.5 - ay;
          double l2 = dx * dx + dy * dy, t = l2 > 0 ? (px * dx + py * dy) / l2 : 0;
          t = t < 0 ? 0 : (t > 1 ? 1 : t);
          double ex = px - t * dx, ey = py - t * dy, d2 = ex * ex + ey * ey;
          certain |= d2 < hw2 - 1e-3;
          maybe |= fabs(d2 - hw2) <= 1e-3;
        }
        m = certain ? 1 : (maybe ? 2 : 0);
      } else {
        int s = op->scale, X = rnd(op->x), Y = rnd(op->y);
        int len = (int)strlen(op->text);
        if (bg) {
          m = x >= X - s && x < X + len * 8 * s + s && y >= Y - s && y < Y + 16 * s + s;
        } else if (x >= X && y >= Y && y < Y + 16 * s && x < X + len * 8 * s) {
          int k = (x - X) / (8 * s), col = ((x - X) % (8 * s)) / s, row = (y - Y) / s;
          unsigned char c = (unsigned char)op->text[k];
          if (c < 32 || c > 126) c = '?';
          m = (vg_font8x16[c - 32][row] >> (7 - col)) & 1;
        }
      }
      mask[y * W + x] = m;
    }
  }
}

static const vg_pixfmt k_formats[4] = {VG_PIX_NV12, VG_PIX_RGB24, VG_PIX_BGR24, VG_PIX_GRAY8};

/* The bytes a pixel of frame f takes for colour rgb: Y, U, V on NV12; the channels in memory
 * order on RGB24/BGR24; on GRAY8 the full-range luma of the frame's colorspace. */
static void ref_colour(const vg_frame *f, const uint8_t rgb[3], uint8_t out[3]) {
  if (f->format == VG_PIX_NV12) {
    vg_rgb_to_yuv(f->colorspace, f->full_range, rgb, out);
  } else if (f->format == VG_PIX_RGB24) {
    out[0] = rgb[0], out[1] = rgb[1], out[2] = rgb[2];
  } else if (f->format == VG_PIX_BGR24) {
    out[0] = rgb[2], out[1] = rgb[1], out[2] = rgb[0];
  } else {
    vg_rgb_to_yuv(f->colorspace, true, rgb, out); /* checked by test_overlay_packed_known */
    out[1] = out[2] = out[0];
  }
}

/* Paints one mask on the reference frame; unsure pixels poison `unsure` for the comparison. */
static void ref_paint(vg_frame *f, const uint8_t *mask, const uint8_t yuv[3], uint8_t *unsure,
                      uint8_t *unsure_c) {
  int W = f->width, H = f->height;
  if (f->format != VG_PIX_NV12) {
    int bpp = f->format == VG_PIX_GRAY8 ? 1 : 3;
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++) {
        if (mask[y * W + x] == 1) memcpy((uint8_t *)t_px(f, 0, x * bpp, y), yuv, (size_t)bpp);
        if (mask[y * W + x] == 2) unsure[y * W + x] = 1;
      }
    return;
  }
  for (int by = 0; by < (H + 1) / 2; by++) {
    for (int bx = 0; bx < (W + 1) / 2; bx++) {
      int any = 0, maybe = 0;
      for (int y = 2 * by; y < 2 * by + 2 && y < H; y++) {
        for (int x = 2 * bx; x < 2 * bx + 2 && x < W; x++) {
          uint8_t m = mask[y * W + x];
          if (m == 1) ((uint8_t *)t_px(f, 0, x, y))[0] = yuv[0];
          if (m == 2) unsure[y * W + x] = 1;
          any |= m == 1, maybe |= m == 2;
        }
      }
      uint8_t *uv = (uint8_t *)t_px(f, 1, 2 * bx, by);
      if (any) uv[0] = yuv[1], uv[1] = yuv[2];
      if (maybe) unsure_c[by * ((W + 1) / 2) + bx] = 1;
    }
  }
}

static vg_draw_op random_op(int nf, const vg_frame *fr, char texts[][16], int k) {
  int f = t_randi(0, nf - 1), W = fr[f].width, H = fr[f].height;
  vg_draw_op op;
  uint8_t r = (uint8_t)t_rand(), g = (uint8_t)t_rand(), b = (uint8_t)t_rand();
  float x1 = t_randf(-10, W + 5.f), y1 = t_randf(-10, H + 5.f);
  vg_box box = {x1, y1, x1 + t_randf(0, W * 0.8f), y1 + t_randf(0, H * 0.8f)};
  switch (t_randi(0, 3)) {
  case 0:
    op = vg_draw_box(f, box, t_randi(1, 5), r, g, b);
    break;
  case 1:
    op = vg_draw_fill(f, box, r, g, b);
    break;
  case 2:
    op = vg_draw_box(f, box, t_randi(1, 6), r, g, b);
    op.kind = VG_DRAW_POLYGON;
    op.npoints = t_randi(2, 6);
    for (int i = 0; i < op.npoints; i++)
      op.px[i] = t_randf(-5, W + 5.f), op.py[i] = t_randf(-5, H + 5.f);
    break;
  default: {
    int len = t_randi(0, 12);
    for (int i = 0; i < len; i++)
      texts[k][i] = (char)(t_randi(0, 20) ? t_randi(32, 126) : 0xc3);
    texts[k][len] = 0;
    op = vg_draw_text(f, t_randf(-20, W + 2.f), t_randf(-20, H + 2.f), texts[k], t_randi(1, 3), r,
                      g, b);
    op.background = t_randi(0, 1);
    op.bg_rgb[0] = (uint8_t)t_rand(), op.bg_rgb[1] = (uint8_t)t_rand(), op.bg_rgb[2] = 9;
  }
  }
  return op;
}

static void print_ops(const vg_draw_op *ops, int n) {
  for (int k = 0; k < n; k++)
    print_error("op %d: kind %d frame %d box %g,%g,%g,%g t %d np %d p0 %g,%g text '%s' at %g,%g "
                "scale %d bg %d\n",
                k, ops[k].kind, ops[k].frame, ops[k].box.x1, ops[k].box.y1, ops[k].box.x2,
                ops[k].box.y2, ops[k].thickness, ops[k].npoints, ops[k].px[0], ops[k].py[0],
                ops[k].kind == VG_DRAW_TEXT ? ops[k].text : "", ops[k].x, ops[k].y, ops[k].scale,
                ops[k].background);
  for (int k = 0; k < n; k++)
    for (int i = 0; i < ops[k].npoints; i++)
      print_error("op %d point %d: %.9g %.9g\n", k, i, ops[k].px[i], ops[k].py[i]);
}

static void test_overlay_random(void **st) {
  for (int iter = 0; iter < 60; iter++) {
    int nf = t_randi(1, 3), nops = t_randi(1, 30);
    vg_frame fr[3], ref[3];
    for (int i = 0; i < nf; i++) {
      vg_pixfmt fmt = k_formats[t_randi(0, 3)];
      fr[i] = t_frame(fmt, t_randi(1, 90), t_randi(1, 70), t_randi(0, 9));
      fr[i].colorspace = (vg_colorspace)t_randi(0, 1);
      fr[i].full_range = t_randi(0, 1);
      ref[i] = fr[i];
      ref[i].buffer = NULL;
      VG_ASSERT_OK(vg_buffer_alloc(vg_cpu(), vg_buffer_size(fr[i].buffer), NULL, &ref[i].buffer));
      memcpy(vg_buffer_data(ref[i].buffer), vg_buffer_data(fr[i].buffer),
             vg_buffer_size(fr[i].buffer));
    }
    char texts[30][16];
    vg_draw_op ops[30];
    for (int k = 0; k < nops; k++)
      ops[k] = random_op(nf, fr, texts, k);
    VG_ASSERT_OK(vg_overlay(fr, nf, ops, nops, NULL));
    for (int i = 0; i < nf; i++) {
      int W = fr[i].width, H = fr[i].height, cw = (W + 1) / 2, ch = (H + 1) / 2;
      uint8_t *mask = malloc((size_t)W * H), *uns = calloc((size_t)W * H, 1),
              *unsc = calloc((size_t)cw * ch, 1);
      for (int k = 0; k < nops; k++) {
        if (ops[k].frame != i) continue;
        uint8_t yuv[3];
        if (ops[k].kind == VG_DRAW_TEXT && ops[k].background) {
          ref_colour(&fr[i], ops[k].bg_rgb, yuv);
          ref_mask(&ops[k], W, H, mask, true);
          ref_paint(&ref[i], mask, yuv, uns, unsc);
        }
        ref_colour(&fr[i], ops[k].rgb, yuv);
        ref_mask(&ops[k], W, H, mask, false);
        ref_paint(&ref[i], mask, yuv, uns, unsc);
      }
      /* whole planes including the pitch padding */
      int bpp = fr[i].format == VG_PIX_RGB24 || fr[i].format == VG_PIX_BGR24 ? 3 : 1;
      for (int y = 0; y < H; y++)
        for (int x = 0; x < fr[i].pitch[0]; x++)
          if ((x >= W * bpp || !uns[y * W + x / bpp]) &&
              t_px(&fr[i], 0, x, y)[0] != t_px(&ref[i], 0, x, y)[0]) {
            print_ops(ops, nops);
            fail_msg("iter %d frame %d (format %d) byte (%d,%d) = %d, want %d", iter, i,
                     (int)fr[i].format, x, y, t_px(&fr[i], 0, x, y)[0], t_px(&ref[i], 0, x, y)[0]);
          }
      for (int y = 0; fr[i].format == VG_PIX_NV12 && y < ch; y++)
        for (int x = 0; x < fr[i].pitch[1]; x++)
          if ((x >= 2 * cw || !unsc[y * cw + x / 2]) &&
              t_px(&fr[i], 1, x, y)[0] != t_px(&ref[i], 1, x, y)[0]) {
            print_ops(ops, nops);
            fail_msg("iter %d frame %d UV byte (%d,%d) = %d, want %d", iter, i, x, y,
                     t_px(&fr[i], 1, x, y)[0], t_px(&ref[i], 1, x, y)[0]);
          }
      free(mask), free(uns), free(unsc);
    }
    for (int i = 0; i < nf; i++)
      vg_frame_release(&fr[i]), vg_frame_release(&ref[i]);
  }
}

/* The GPU kernel's work split (one work item per 2x2 block of each primitive, painting only
 * what no later primitive covers), run sequentially on the host, paints exactly what the
 * in-order CPU twin paints. */
static void test_parallel_split_equals_in_order(void **st) {
  for (int iter = 0; iter < 40; iter++) {
    int nf = t_randi(1, 3), nops = t_randi(1, 30);
    vg_frame a[3], b[3];
    for (int i = 0; i < nf; i++) {
      a[i] = t_frame(k_formats[t_randi(0, 3)], t_randi(1, 90), t_randi(1, 70), t_randi(0, 9));
      b[i] = a[i];
      b[i].buffer = NULL;
      VG_ASSERT_OK(vg_buffer_alloc(vg_cpu(), vg_buffer_size(a[i].buffer), NULL, &b[i].buffer));
      memcpy(vg_buffer_data(b[i].buffer), vg_buffer_data(a[i].buffer), vg_buffer_size(a[i].buffer));
    }
    char texts[30][16];
    vg_draw_op ops[30];
    for (int k = 0; k < nops; k++)
      ops[k] = random_op(nf, a, texts, k);
    vg_ip_prim *pa, *pb;
    int na, nb;
    VG_ASSERT_OK(vg_ip_overlay_build(a, nf, ops, nops, &pa, &na));
    VG_ASSERT_OK(vg_ip_overlay_build(b, nf, ops, nops, &pb, &nb));
    assert_int_equal(na, nb);
    vg_ip_overlay_cpu(pa, na);
    VG_ASSERT_OK(vg_ip_overlay_emulate(pb, nb));
    for (int i = 0; i < nf; i++) {
      assert_memory_equal(vg_buffer_data(a[i].buffer), vg_buffer_data(b[i].buffer),
                          vg_buffer_size(a[i].buffer));
      vg_frame_release(&a[i]), vg_frame_release(&b[i]);
    }
    free(pa), free(pb);
  }
}

/* Known answers: a filled white box in limited-range BT.601, and label placement. */
static void test_overlay_known(void **st) {
  vg_frame f = t_frame(VG_PIX_NV12, 40, 30, 3);
  memset(vg_buffer_data(f.buffer), 0, vg_buffer_size(f.buffer));
  vg_draw_op op = vg_draw_fill(0, (vg_box){3.4f, 4.6f, 10.5f, 7.f}, 255, 255, 255);
  VG_ASSERT_OK(vg_overlay(&f, 1, &op, 1, NULL));
  /* x 3..10 (10.5 rounds to 11, exclusive), y 5..6 */
  for (int y = 0; y < 30; y++)
    for (int x = 0; x < 40; x++)
      assert_int_equal(t_px(&f, 0, x, y)[0], (x >= 3 && x < 11 && y >= 5 && y < 7) ? 235 : 0);
  assert_int_equal(t_px(&f, 1, 2, 2)[0], 128); /* block (1,2) touches pixel (3,5) */
  assert_int_equal(t_px(&f, 1, 0, 2)[0], 0);
  uint8_t fg[3] = {0, 0, 0}, bg[3] = {255, 255, 0};
  vg_draw_op l = vg_draw_label(0, 5, 30, "hi", 1, fg, bg);
  assert_true(l.background);
  assert_float_equal(l.y, 30 - 17, 0);
  l = vg_draw_label(0, 5, 3, "hi", 2, fg, bg); /* no room above: below y */
  assert_float_equal(l.y, 5, 0);
  vg_frame_release(&f);
}

static void test_overlay_bad_ops(void **st) {
  vg_frame f = t_frame(VG_PIX_NV12, 16, 16, 0);
  vg_draw_op op = vg_draw_box(1, (vg_box){1, 1, 5, 5}, 1, 1, 2, 3);
  assert_int_equal(vg_overlay(&f, 1, &op, 1, NULL), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("op 0 names frame 1");
  op.frame = 0;
  op.thickness = 0;
  assert_int_equal(vg_overlay(&f, 1, &op, 1, NULL), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("thickness 0");
  op.thickness = 2;
  op.box.x2 = INFINITY;
  assert_int_equal(vg_overlay(&f, 1, &op, 1, NULL), VG_ERR_INVALID_ARG);
  op = vg_draw_text(0, 1, 1, NULL, 1, 1, 1, 1);
  assert_int_equal(vg_overlay(&f, 1, &op, 1, NULL), VG_ERR_INVALID_ARG);
  op = vg_draw_text(0, 1, 1, "x", 0, 1, 1, 1);
  assert_int_equal(vg_overlay(&f, 1, &op, 1, NULL), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("scale 0");
  op = vg_draw_box(0, (vg_box){1, 1, 5, 5}, 1, 1, 2, 3);
  op.kind = VG_DRAW_POLYGON;
  op.npoints = 17;
  assert_int_equal(vg_overlay(&f, 1, &op, 1, NULL), VG_ERR_INVALID_ARG);
  op.kind = (vg_draw_kind)9;
  assert_int_equal(vg_overlay(&f, 1, &op, 1, NULL), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("unknown kind");
  vg_frame bad = t_frame(VG_PIX_RGB24, 16, 16, 0);
  bad.format = VG_PIX_COUNT_;
  op = vg_draw_box(0, (vg_box){1, 1, 5, 5}, 1, 1, 2, 3);
  assert_int_not_equal(vg_overlay(&bad, 1, &op, 1, NULL), VG_OK);
  VG_ASSERT_OK(vg_overlay(&f, 1, NULL, 0, NULL)); /* nothing to draw */
  vg_frame_release(&bad);
  vg_frame_release(&f);
}

/* Known answers on packed frames: a filled box on RGB24, BGR24 and GRAY8 changes exactly its
 * pixels, in the format's byte order; one call may mix formats. */
static void test_overlay_packed_known(void **st) {
  vg_frame f[3] = {t_frame(VG_PIX_RGB24, 21, 9, 2), t_frame(VG_PIX_BGR24, 21, 9, 0),
                   t_frame(VG_PIX_GRAY8, 21, 9, 5)};
  vg_draw_op ops[3];
  for (int i = 0; i < 3; i++) {
    memset(vg_buffer_data(f[i].buffer), 7, vg_buffer_size(f[i].buffer));
    ops[i] = vg_draw_fill(i, (vg_box){2, 3, 6, 5}, 200, 100, 50);
  }
  f[2].colorspace = VG_CS_BT601;
  VG_ASSERT_OK(vg_overlay(f, 3, ops, 3, NULL));
  const uint8_t want[3][3] = {{200, 100, 50}, {50, 100, 200}, {125, 125, 125}};
  /* gray: 0.299 * 200 + 0.587 * 100 + 0.114 * 50 = 124.2 -> the library's Q16 rounding, +-1 */
  for (int i = 0; i < 3; i++) {
    int bpp = i == 2 ? 1 : 3;
    for (int y = 0; y < 9; y++)
      for (int x = 0; x < 21; x++)
        for (int c = 0; c < bpp; c++) {
          int in = x >= 2 && x < 6 && y >= 3 && y < 5, v = t_px(&f[i], 0, x * bpp + c, y)[0];
          if (!in) assert_int_equal(v, 7);
          if (in && i < 2) assert_int_equal(v, want[i][c]);
          if (in && i == 2) assert_true(v >= 123 && v <= 125);
        }
    vg_frame_release(&f[i]);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_overlay_packed_known),
      cmocka_unit_test(test_overlay_random),
      cmocka_unit_test(test_parallel_split_equals_in_order),
      cmocka_unit_test(test_overlay_known),
      cmocka_unit_test(test_overlay_bad_ops),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
