#pragma once

// RAII owners for the OpenSSL handles the crypto module uses; private to the module (and its
// tests). Every handle is freed by its own OpenSSL destructor, which accepts nullptr.

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <memory>

namespace fleet::crypto {

template <class T, void (*Free)(T*)>
struct OpenSslDeleter {
  void operator()(T* handle) const { Free(handle); }
};

// BIO_free returns int; adapt it to the void(T*) shape.
inline void FreeBio(BIO* bio) { BIO_free(bio); }

using PkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslDeleter<EVP_PKEY, EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, OpenSslDeleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, OpenSslDeleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using BioPtr = std::unique_ptr<BIO, OpenSslDeleter<BIO, FreeBio>>;
using BignumPtr = std::unique_ptr<BIGNUM, OpenSslDeleter<BIGNUM, BN_free>>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, OpenSslDeleter<ECDSA_SIG, ECDSA_SIG_free>>;

}  // namespace fleet::crypto
