-- the HTTP hosts to block; load after http_host.lua
return http_host.configure{
	"blocked.test",
	"*.ads.test",
}
