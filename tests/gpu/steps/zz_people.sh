# zz_people.sh - issue 7's GPU check: source -> NVDEC -> tiles -> infer (CUDA, IOBinding) ->
# yolo_decode + NMS on the device, streaming, with zero frame copies to the host counted by the
# scheduler (snapshots off: the JPEG sink reads frames back by design). Sourced by run_gpu.sh.
DATA=${DATA:-samples}
people_gpu() {
  "$VG_BIN" run examples/people_count.yaml --input "$DATA/people.h264" --output "$OUT/people" \
    --set nodes.snapshots.params.on_objects=false --set nodes.snapshots.params.every=1000000000 --set nodes.annotated.params.required=false || return 1
  python3 - "$OUT/people/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
nodes = {n["id"]: n for n in s["nodes"]}
det = nodes["det"].get("detail", {})
dec = [st["decoder"] for st in nodes["video"].get("detail", {}).get("streams", [])]
print("KEY: people %d frames %.1f fps, decoder %s, det %s io_binding %s batch %.2f, decode on %s, "
      "frame copies to host %d, copies to host %d" % (s["frames_done"], s["fps"], ",".join(dec),
      det.get("provider"), det.get("io_binding"), nodes["det"]["mean_batch"], nodes["decode"]["device"],
      s["frame_copies_to_host"], s["copies_to_host"]))
ok = s["state"] == "succeeded" and s["frame_copies_to_host"] == 0 and dec == ["nvdec"] \
     and det.get("provider") == "cuda" and det.get("io_binding") and nodes["decode"]["device"].startswith("cuda")
sys.exit(0 if ok else 1)
PY
}
step people-gpu-zero-copy people_gpu
