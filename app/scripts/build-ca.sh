# Sourced (`. /usr/local/lib/food11/build-ca.sh`, POSIX sh) by app/Dockerfile's RUN steps that
# reach a registry. The build's extra CA certificates (build arg EXTRA_CA_CERTS, written to
# /usr/local/lib/food11/extra-ca.pem by the base stage) for Node and npm (NODE_EXTRA_CA_CERTS adds
# to Node's own roots) and, when the stage has a system bundle, for pip and OpenSSL (PIP_CERT and
# SSL_CERT_FILE replace the roots, so they get the bundle plus the extras). No extra CAs: nothing.
if [ -s /usr/local/lib/food11/extra-ca.pem ]; then
  export NODE_EXTRA_CA_CERTS=/usr/local/lib/food11/extra-ca.pem
  if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    cat /etc/ssl/certs/ca-certificates.crt /usr/local/lib/food11/extra-ca.pem >/tmp/food11-ca-bundle.pem
    export PIP_CERT=/tmp/food11-ca-bundle.pem SSL_CERT_FILE=/tmp/food11-ca-bundle.pem
  fi
fi
