#!/usr/bin/env bash
# A slimmer .devicekit/ than ../shared/tools/device-kit.sh, for when the working tree leaves less room: the same
# layout and env.sh (Node.js, node_modules, the Vulkan/GL loaders), but Node.js stripped of its debug symbols and
# only the production dependencies (npm ls --omit=dev: no TypeScript, no @types), all at xz -9e.
# Measured 2026-11-26: 41.7 MB against the shared kit's 45 MB (node 21.9 MB, node_modules 19.4 MB).
#   bash benchmarks/gpu-kit.sh        (from the project root, after npm install; about 3 minutes on 2 cores)
set -euo pipefail
root=$(git rev-parse --show-toplevel); cd "$root"
kit=.devicekit
[ "$(uname -m)" = x86_64 ] || { echo "gpu-kit: build this on an x86-64 machine" >&2; exit 1; }
[ -d node_modules/onnxruntime-node ] || { echo "gpu-kit: run npm install first" >&2; exit 1; }
grep -qxF "/$kit/" .git/info/exclude 2>/dev/null || echo "/$kit/" >> .git/info/exclude
rm -rf "$kit"; mkdir -p "$kit/debs" /tmp/devicekit-apt/partial
# 1. Node.js without debug symbols
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
strip -o "$tmp/node" "$(command -v node)"
xz -T2 -9e -c "$tmp/node" > "$kit/node.xz"
# 2. the production dependencies, without other platforms' binaries
mapfile -t mods < <(npm ls --omit=dev --all --parseable 2>/dev/null | sed "s#^$root/##" | grep '^node_modules/' | sort -u)
tar -cf - --exclude='onnxruntime-node/bin/napi-v*/darwin' --exclude='onnxruntime-node/bin/napi-v*/win32' \
  --exclude='onnxruntime-node/bin/napi-v*/linux/arm64' --exclude='*linuxmusl*' --exclude='*darwin*' --exclude='*win32*' \
  "${mods[@]}" | xz -T2 -9e > "$kit/node_modules.tar.xz"
# 3. the Vulkan and GL loaders (the NVIDIA driver's Vulkan ICD is already on the GPU machine)
o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/devicekit-apt'
apt-get $o update >/dev/null
(cd "$kit/debs" && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >/dev/null 2>&1)
cat > "$kit/env.sh" <<'ENV'
# Source this on the GPU machine, from the project root.
for f in .devicekit/debs/*.deb; do dpkg -x "$f" /; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
mkdir -p /tmp/devicekit-bin
[ -x /tmp/devicekit-bin/node ] || { xz -d < .devicekit/node.xz > /tmp/devicekit-bin/node; chmod +x /tmp/devicekit-bin/node; }
export PATH=/tmp/devicekit-bin:$PATH
[ -d node_modules/onnxruntime-node ] || tar -xJf .devicekit/node_modules.tar.xz
ENV
du -sh "$kit"
