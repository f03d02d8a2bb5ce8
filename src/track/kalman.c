/* kalman.c - constant-velocity Kalman filter on (cx, cy, a = w/h, h) with velocities; process
 * and measurement noise scale with the box height as in ByteTrack / DeepSORT. */
#include "kalman.h"

#include <math.h>
#include <string.h>

#define W_POS (1.0 / 20)
#define W_VEL (1.0 / 160)

static void to_meas(const vg_box *b, double z[4]) {
  double w = b->x2 - b->x1, h = b->y2 - b->y1;
  if (h < 1e-3) h = 1e-3;
  z[0] = b->x1 + w / 2, z[1] = b->y1 + h / 2, z[2] = w / h, z[3] = h;
}

void kf_init(kf_state *k, const vg_box *b) {
  memset(k, 0, sizeof *k);
  to_meas(b, k->mean);
  double h = k->mean[3];
  double sd[8] = {2 * W_POS * h,  2 * W_POS * h,  1e-2, 2 * W_POS * h,
                  10 * W_VEL * h, 10 * W_VEL * h, 1e-5, 10 * W_VEL * h};
  for (int i = 0; i < 8; i++)
    k->cov[i * 8 + i] = sd[i] * sd[i];
}

void kf_predict(kf_state *k, bool freeze_h) {
  if (freeze_h) k->mean[7] = 0;
  double h = k->mean[3];
  double sd[8] = {W_POS * h, W_POS * h, 1e-2, W_POS * h, W_VEL * h, W_VEL * h, 1e-5, W_VEL * h};
  for (int i = 0; i < 4; i++)
    k->mean[i] += k->mean[i + 4];
  /* P = F P F^T + Q with F = [I I; 0 I] */
  double fp[64], p[64];
  for (int i = 0; i < 8; i++)
    for (int j = 0; j < 8; j++)
      fp[i * 8 + j] = k->cov[i * 8 + j] + (i < 4 ? k->cov[(i + 4) * 8 + j] : 0);
  for (int i = 0; i < 8; i++)
    for (int j = 0; j < 8; j++)
      p[i * 8 + j] = fp[i * 8 + j] + (j < 4 ? fp[i * 8 + j + 4] : 0);
  for (int i = 0; i < 8; i++)
    p[i * 8 + i] += sd[i] * sd[i];
  memcpy(k->cov, p, sizeof p);
}

/* Inverse of a 4x4 matrix by Gauss-Jordan with partial pivoting. */
static bool inv4(const double *m, double *out) {
  double a[4][8];
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 8; j++)
      a[i][j] = j < 4 ? m[i * 4 + j] : (j - 4 == i);
  for (int c = 0; c < 4; c++) {
    int piv = c;
    for (int r = c + 1; r < 4; r++)
      if (fabs(a[r][c]) > fabs(a[piv][c])) piv = r;
    if (fabs(a[piv][c]) < 1e-12) return false;
    for (int j = 0; j < 8; j++) {
      double t = a[c][j];
      a[c][j] = a[piv][j], a[piv][j] = t;
    }
    double d = a[c][c];
    for (int j = 0; j < 8; j++)
      a[c][j] /= d;
    for (int r = 0; r < 4; r++) {
      if (r == c) continue;
      double f = a[r][c];
      for (int j = 0; j < 8; j++)
        a[r][j] -= f * a[c][j];
    }
  }
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++)
      out[i * 4 + j] = a[i][j + 4];
  return true;
}

vg_status kf_update(kf_state *k, const vg_box *b) {
  double z[4];
  to_meas(b, z);
  double h = k->mean[3];
  double r[4] = {W_POS * h, W_POS * h, 1e-1, W_POS * h};
  double s[16], si[16], kg[32], y[4];
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++)
      s[i * 4 + j] = k->cov[i * 8 + j] + (i == j ? r[i] * r[i] : 0);
  if (!inv4(s, si)) return vg_set_error(VG_ERR_INTERNAL, "tracker: singular Kalman innovation");
  for (int i = 0; i < 8; i++) /* K = P H^T S^-1 */
    for (int j = 0; j < 4; j++) {
      double acc = 0;
      for (int l = 0; l < 4; l++)
        acc += k->cov[i * 8 + l] * si[l * 4 + j];
      kg[i * 4 + j] = acc;
    }
  for (int i = 0; i < 4; i++)
    y[i] = z[i] - k->mean[i];
  for (int i = 0; i < 8; i++)
    for (int j = 0; j < 4; j++)
      k->mean[i] += kg[i * 4 + j] * y[j];
  double p[64]; /* P - K H P (= P - K S K^T) */
  for (int i = 0; i < 8; i++)
    for (int j = 0; j < 8; j++) {
      double acc = 0;
      for (int l = 0; l < 4; l++)
        acc += kg[i * 4 + l] * k->cov[l * 8 + j];
      p[i * 8 + j] = k->cov[i * 8 + j] - acc;
    }
  for (int i = 0; i < 8; i++) /* keep it symmetric */
    for (int j = 0; j < i; j++)
      p[i * 8 + j] = p[j * 8 + i] = 0.5 * (p[i * 8 + j] + p[j * 8 + i]);
  memcpy(k->cov, p, sizeof p);
  return VG_OK;
}

vg_box kf_box(const kf_state *k) {
  double w = k->mean[2] * k->mean[3], h = k->mean[3];
  vg_box b = {(float)(k->mean[0] - w / 2), (float)(k->mean[1] - h / 2), (float)(k->mean[0] + w / 2),
              (float)(k->mean[1] + h / 2)};
  return b;
}
