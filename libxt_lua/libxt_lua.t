# libxt_lua.t: the lua match and LUA target (libxt_lua/test.sh; the format of iptables'
# extensions/*.t). A line is RULE;EXPECTED;OK|FAIL. EXPECTED is what "iptables -S" shows for
# RULE ('=': RULE itself); for FAIL lines it may hold a piece of the error message, and then
# the failure must come from the parser (exit status 2: checked without the kernel too), else
# from the kernel. RULE is split into words by the shell, and holds no ';'.
# The states and functions used here are made by the VM case: states web, my.state, 'q"s\t', "it's",
# s012345678901234567890123456789012345678901234567890123456789xy; functions check_ua, verdict, _f0 and f012345678901234567890123456789012345678901234567890123456789_y.
:INPUT,FORWARD,OUTPUT
-m lua --state web --function check_ua;=;OK
-m lua --state web ! --function check_ua;=;OK
-m lua --state web --function check_ua --tcp-payload;=;OK
-m lua --state web ! --function check_ua --tcp-payload;=;OK
-m lua --function check_ua --state web;-m lua --state web --function check_ua;OK
-m lua --tcp-payload ! --function check_ua --state web;-m lua --state web ! --function check_ua --tcp-payload;OK
-p tcp -m tcp --dport 80 -m lua --state web --function check_ua --tcp-payload -j DROP;=;OK
-m lua --state my.state --function _f0;-m lua --state "my.state" --function _f0;OK
-m lua --state "my.state" --function _f0;=;OK
-m lua --state "q\"s\\t" --function _f0;=;OK
-m lua --state "it's" --function _f0;-m lua --state "it\'s" --function _f0;OK
-m lua --state s012345678901234567890123456789012345678901234567890123456789xy --function f012345678901234567890123456789012345678901234567890123456789_y;=;OK
-m lua --state web --function check_ua -m lua --state my.state ! --function _f0;-m lua --state web --function check_ua -m lua --state "my.state" ! --function _f0;OK
-j LUA --state web --function verdict;=;OK
-j LUA --function verdict --state my.state;-j LUA --state "my.state" --function verdict;OK
-m lua --state web ! --function check_ua -j LUA --state web --function verdict;=;OK
-m lua --state nosuch --function check_ua;;FAIL
-j LUA --state nosuch --function verdict;;FAIL
-m lua;lua: missing --state and --function (both --state and --function are required;FAIL
-m lua --state web;lua: missing --function (;FAIL
-m lua --function check_ua;lua: missing --state (;FAIL
-m lua --tcp-payload;lua: missing --state and --function;FAIL
-m lua --state web --state web --function check_ua;lua: option "--state" can only be used once;FAIL
-m lua --state web --function check_ua --function check_ua;lua: option "--function" can only be used once;FAIL
-m lua --state web --function check_ua --tcp-payload --tcp-payload;lua: option "--tcp-payload" can only be used once;FAIL
-m lua ! --state web --function check_ua;lua: option "--state" cannot be inverted;FAIL
-m lua --state web --function check_ua ! --tcp-payload;lua: option "--tcp-payload" cannot be inverted;FAIL
-m lua --state "" --function check_ua;lua: --state: the state name is empty;FAIL
-m lua --state "a b" --function check_ua;lua: --state: state name "a b" has a space at position 2;FAIL
-m lua --state a/b --function check_ua;lua: --state: state name "a/b" has '/' at position 2;FAIL
-m lua --state hé --function check_ua;has byte 0xc3 at position 2;FAIL
-m lua --state s012345678901234567890123456789012345678901234567890123456789xyz --function check_ua;is too long (64 bytes, at most 63);FAIL
-m lua --state web --function "";lua: --function: the function name is empty;FAIL
-m lua --state web --function 9lives;lua: --function: "9lives" is not a Lua identifier: it starts with '9';FAIL
-m lua --state web --function check-ua;"check-ua" is not a Lua identifier: '-' at position 6;FAIL
-m lua --state web --function a.b;"a.b" is not a Lua identifier: '.' at position 2;FAIL
-m lua --state web --function end;lua: --function: "end" is a Lua keyword;FAIL
-m lua --state web --function function;"function" is a Lua keyword;FAIL
-m lua --state web --function f012345678901234567890123456789012345678901234567890123456789_yz;is too long (64 characters, at most 63);FAIL
-m lua --state web --function check_ua --bogus;unknown option "--bogus";FAIL
-m lua --state;option "--state" requires an argument;FAIL
-j LUA;LUA: missing --state and --function;FAIL
-j LUA --state web;LUA: missing --function;FAIL
-j LUA --function verdict;LUA: missing --state;FAIL
-j LUA --state web --function verdict --tcp-payload;unknown option "--tcp-payload";FAIL
-j LUA --state web ! --function verdict;LUA: option "--function" cannot be inverted;FAIL
-j LUA --state web --state web --function verdict;LUA: option "--state" can only be used once;FAIL
-j LUA --state we/b --function verdict;LUA: --state: state name "we/b" has '/' at position 3;FAIL
-j LUA --state web --function nil;LUA: --function: "nil" is a Lua keyword;FAIL
-j LUA --state web --function 0;LUA: --function: "0" is not a Lua identifier: it starts with '0';FAIL
