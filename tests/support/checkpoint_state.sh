# Sourced by the shell tests that compare what runs of the real trainer leave behind; they
# define $work (a scratch folder), $protoc and $proto_dir.

# The training state of a checkpoint as text, bytes of floats included: the frame (12-byte
# header, 4-byte footer) is cut off and protoc decodes the payload; the config, provenance,
# timings and rank count, which may differ between equal runs, are left out.
training_state() {
  tail -c +13 "$1" | head -c -4 >"$work/payload"
  "$protoc" --decode=mlp.pb.Checkpoint -I "$proto_dir" checkpoint.proto <"$work/payload" >"$work/decoded" ||
    return 1
  awk '/^[a-z_]+ \{$/ { block = $1 }
       block == "config" || block == "provenance" { if ($0 == "}") block = ""; next }
       /^ *(seconds|samples_per_second|epoch_seconds|elapsed_seconds|world_size): / { next }
       { print }' "$work/decoded"
}
