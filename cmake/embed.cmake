# cmake -DOUT=file.c -DNAME=sym -DIN=a.sh -P embed.cmake
# Writes `const char NAME[]`: the bytes of IN, NUL-terminated, so the shell
# files under provisioner/run/sh/ are part of the binary and stay real files in
# the tree (checked by shellcheck).
# Comment lines are left out: every connection reads lib.sh once.
file(READ "${IN}" text)
string(REGEX REPLACE "\n[ \t]*#[^\n]*" "" text "\n${text}")
string(REGEX REPLACE "^\n" "" text "${text}")
file(WRITE "${OUT}.txt" "${text}")
file(READ "${OUT}.txt" hex HEX)
file(REMOVE "${OUT}.txt")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n\t" bytes "${bytes}")
get_filename_component(base "${IN}" NAME)
file(WRITE "${OUT}.tmp" "/* generated from provisioner/run/sh/${base} by cmake/embed.cmake */\n"
     "extern const char ${NAME}[];\nconst char ${NAME}[] = {\n\t${bytes}0x00\n};\n")
file(RENAME "${OUT}.tmp" "${OUT}")
