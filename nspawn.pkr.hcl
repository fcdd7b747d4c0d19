# The example: a minimal Debian base, exported as base.tar.zst (with its
# checksum), then two containers made from it, one cloned and one imported
# from the archive.
#
#   packer build -only='*.base' .
#   packer build -only='*.from-*' .

variable "suite" {
  type    = string
  default = "bookworm"
}

# Empty: debootstrap's default mirror for the suite.
variable "mirror" {
  type    = string
  default = ""
}

# "veth", machinectl start's own, needs systemd-networkd on the host;
# "host" shares the host's network.
variable "network" {
  type    = string
  default = "veth"
}

variable "timeout" {
  type    = string
  default = "60s"
}

source "nspawn" "base" {
  suite   = var.suite
  variant = "minbase"
  mirror  = var.mirror
  network = var.network
  timeout = var.timeout
  export  = ["base.tar.zst"]
}

build {
  sources = ["source.nspawn.base"]

  provisioner "shell" {
    inline = [
      "apt-get update",
      "DEBIAN_FRONTEND=noninteractive apt-get install -y less",
      "apt-get clean",
    ]
  }

  provisioner "file" {
    source      = "nspawn.pkr.hcl"
    destination = "/root/built-from.pkr.hcl"
  }

  post-processor "checksum" {
    checksum_types = ["sha256"]
    output         = "base.tar.zst.sha256"
  }
}

source "nspawn" "from-clone" {
  clone   = "base"
  network = var.network
  timeout = var.timeout
}

source "nspawn" "from-archive" {
  import  = "base.tar.zst"
  network = var.network
  timeout = var.timeout
}

build {
  sources = ["source.nspawn.from-clone", "source.nspawn.from-archive"]

  provisioner "shell" {
    inline = [
      "test -f /root/built-from.pkr.hcl",
      "echo \"$(hostname) made from base\" > /etc/motd",
    ]
  }
}
