"""Run an exported adexwb estimator in Python's onnxruntime, the way docs/onnx-contract.md shows.

Usage: python run_estimator.py ESTIMATOR_DIR IO_DIR

Reads x.npy, noise.npy and theta.npy from IO_DIR and writes there:
  py_theta.npy     sampler output for (x, noise), shape (B, n, D)
  py_log_prob.npy  log-density of theta given x, shape (B, m)
  py_meta.json     the metadata both files carry, and the onnxruntime version
Needs only numpy and onnxruntime.
"""
import json
import sys

import numpy as np
import onnxruntime as ort


def main(est_dir: str, io_dir: str) -> None:
    sampler = ort.InferenceSession(f"{est_dir}/sampler.onnx", providers=["CPUExecutionProvider"])
    log_prob = ort.InferenceSession(f"{est_dir}/log_prob.onnx", providers=["CPUExecutionProvider"])
    meta = dict(sampler.get_modelmeta().custom_metadata_map)
    meta_lp = dict(log_prob.get_modelmeta().custom_metadata_map)
    x = np.load(f"{io_dir}/x.npy")
    noise = np.load(f"{io_dir}/noise.npy")
    theta = np.load(f"{io_dir}/theta.npy")
    if noise.shape[-1] != int(meta["adexwb.noise_dim"]):
        raise SystemExit(f"noise has {noise.shape[-1]} columns, the sampler wants {meta['adexwb.noise_dim']}")
    (samples,) = sampler.run(["theta"], {"x": x, "noise": noise})
    (lp,) = log_prob.run(["log_prob"], {"theta": theta, "x": x})
    np.save(f"{io_dir}/py_theta.npy", samples)
    np.save(f"{io_dir}/py_log_prob.npy", lp)
    with open(f"{io_dir}/py_meta.json", "w") as f:
        json.dump({"sampler": meta, "log_prob": meta_lp, "onnxruntime": ort.__version__}, f)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2])
