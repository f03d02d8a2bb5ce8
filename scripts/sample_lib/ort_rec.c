/* ort_rec.c - developer check of the sample, not part of the runtime: runs one ONNX model
 * (the PP-OCR recogniser) on a float32 NCHW tensor read from a file and writes the first
 * output as raw float32, printing its shape. Used by scripts/sample_lib/check_ocr.py to see
 * whether the plates in the generated sample are readable by the model the demo uses.
 *
 *   ort_rec MODEL.onnx INPUT.f32 N C H W OUTPUT.f32
 *
 * Build: cc -O2 -I third_party/onnxruntime/include ort_rec.c \
 *          -L third_party/onnxruntime/lib -lonnxruntime -Wl,-rpath,<that lib dir>
 */
#include <onnxruntime_c_api.h>
#include <stdio.h>
#include <stdlib.h>

static const OrtApi *ort;

static void check(OrtStatus *st, const char *what)
{
  if (st) {
    fprintf(stderr, "ort_rec: %s: %s\n", what, ort->GetErrorMessage(st));
    exit(1);
  }
}

int main(int argc, char **argv)
{
  if (argc != 8) {
    fprintf(stderr, "usage: ort_rec MODEL.onnx INPUT.f32 N C H W OUTPUT.f32\n");
    return 2;
  }
  int64_t shape[4] = {atoll(argv[3]), atoll(argv[4]), atoll(argv[5]), atoll(argv[6])};
  size_t count = (size_t)(shape[0] * shape[1] * shape[2] * shape[3]);
  float *in = malloc(count * sizeof(float));
  FILE *f = fopen(argv[2], "rb");
  if (!in || !f || fread(in, sizeof(float), count, f) != count) {
    fprintf(stderr, "ort_rec: cannot read %zu floats from %s\n", count, argv[2]);
    return 1;
  }
  fclose(f);
  ort = OrtGetApiBase()->GetApi(ORT_API_VERSION);
  OrtEnv *env;
  OrtSessionOptions *so;
  OrtSession *sess;
  OrtMemoryInfo *mi;
  OrtAllocator *alloc;
  OrtValue *x = NULL, *y = NULL;
  char *in_name, *out_name;
  check(ort->CreateEnv(ORT_LOGGING_LEVEL_WARNING, "ort_rec", &env), "CreateEnv");
  check(ort->CreateSessionOptions(&so), "CreateSessionOptions");
  check(ort->SetIntraOpNumThreads(so, 2), "SetIntraOpNumThreads");
  check(ort->CreateSession(env, argv[1], so, &sess), argv[1]);
  check(ort->GetAllocatorWithDefaultOptions(&alloc), "allocator");
  check(ort->SessionGetInputName(sess, 0, alloc, &in_name), "input name");
  check(ort->SessionGetOutputName(sess, 0, alloc, &out_name), "output name");
  check(ort->CreateCpuMemoryInfo(OrtArenaAllocator, OrtMemTypeDefault, &mi), "memory info");
  check(ort->CreateTensorWithDataAsOrtValue(mi, in, count * sizeof(float), shape, 4,
                                            ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, &x),
        "input tensor");
  const char *ins[1] = {in_name}, *outs[1] = {out_name};
  check(ort->Run(sess, NULL, ins, (const OrtValue *const *)&x, 1, outs, 1, &y), "Run");
  OrtTensorTypeAndShapeInfo *info;
  size_t nd, total;
  int64_t dims[8];
  float *data;
  check(ort->GetTensorTypeAndShape(y, &info), "shape");
  check(ort->GetDimensionsCount(info, &nd), "dims");
  if (nd > 8) nd = 8;
  check(ort->GetDimensions(info, dims, nd), "dims");
  check(ort->GetTensorShapeElementCount(info, &total), "count");
  check(ort->GetTensorMutableData(y, (void **)&data), "data");
  FILE *o = fopen(argv[7], "wb");
  if (!o || fwrite(data, sizeof(float), total, o) != total) {
    fprintf(stderr, "ort_rec: cannot write %s\n", argv[7]);
    return 1;
  }
  fclose(o);
  for (size_t i = 0; i < nd; i++) printf("%s%lld", i ? " " : "", (long long)dims[i]);
  printf("\n");
  return 0;
}
