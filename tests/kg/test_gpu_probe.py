import subprocess
import sys


def test_asking_for_a_gpu_does_not_import_torch_where_no_gpu_device_exists():
    """Loading a vector index asks which GPU backend to use; on a machine that shows no GPU device node the answer
    (CPU) comes without importing torch, which alone takes over a second."""
    code = ("import sys\n"
            "import failgraph.kg.gpu as g\n"
            "g.GPU_DEVICE_NODES = ('/nonexistent/gpu-device-node',)\n"
            "g.faiss_gpu_usable = lambda: False\n"
            "print(g.gpu_backend(), 'torch' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=120)
    assert r.stdout.split() == ["None", "False"], r.stdout
