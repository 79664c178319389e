-- the DNS names to block; load after dns_qname.lua
return dns_qname.configure{
	"blocked.test",
	"*.ads.test",
}
