-- the User-Agent words to block (case-insensitive substrings); load after http_ua.lua
return http_ua.configure{
	"curl/",
	"sqlmap",
	"nikto",
	"masscan",
	"zgrab",
}
