-- the TLS server names to block; load after tls_sni.lua
return tls_sni.configure{
	"blocked.test",
	"*.ads.test",
}
