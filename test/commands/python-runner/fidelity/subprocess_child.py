import subprocess, sys
r = subprocess.run([sys.executable, '-c', 'import sys; print("grandchild", sys.argv)', 'x'], capture_output=True, text=True)
print(r.returncode, r.stdout.strip())
