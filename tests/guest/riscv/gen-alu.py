#!/usr/bin/env python3
# Generates isa-alu.S: every RV64IM register/immediate ALU instruction on
# edge-case operands, with results computed here independently of the CPU.
# usage: gen-alu.py > isa-alu.S
#        gen-alu.py bitmanip > isa-bitmanip.S  (Zba, Zbb, Zbc, Zbs, Zicond)
import sys
M = (1 << 64) - 1


def s64(v):
    v &= M
    return v - (1 << 64) if v >> 63 else v


def s32(v):
    v &= 0xffffffff
    return v - (1 << 32) if v >> 31 else v


def sx32(v):
    return s32(v) & M


def tdiv(a, b):
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def trem(a, b):
    return a - b * tdiv(a, b)


def div(a, b):
    a, b = s64(a), s64(b)
    if b == 0:
        return M
    if a == -(1 << 63) and b == -1:
        return a & M
    return tdiv(a, b) & M


def rem(a, b):
    a, b = s64(a), s64(b)
    if b == 0:
        return a & M
    if a == -(1 << 63) and b == -1:
        return 0
    return trem(a, b) & M


def divw(a, b):
    a, b = s32(a), s32(b)
    if b == 0:
        return M
    if a == -(1 << 31) and b == -1:
        return a & M
    return sx32(tdiv(a, b))


def remw(a, b):
    a, b = s32(a), s32(b)
    if b == 0:
        return a & M
    if a == -(1 << 31) and b == -1:
        return 0
    return sx32(trem(a, b))


R = {
    'add': lambda a, b: (a + b) & M,
    'sub': lambda a, b: (a - b) & M,
    'sll': lambda a, b: (a << (b & 63)) & M,
    'slt': lambda a, b: int(s64(a) < s64(b)),
    'sltu': lambda a, b: int(a < b),
    'xor': lambda a, b: a ^ b,
    'srl': lambda a, b: a >> (b & 63),
    'sra': lambda a, b: (s64(a) >> (b & 63)) & M,
    'or': lambda a, b: a | b,
    'and': lambda a, b: a & b,
    'addw': lambda a, b: sx32(a + b),
    'subw': lambda a, b: sx32(a - b),
    'sllw': lambda a, b: sx32(a << (b & 31)),
    'srlw': lambda a, b: sx32((a & 0xffffffff) >> (b & 31)),
    'sraw': lambda a, b: sx32(s32(a) >> (b & 31)),
    'mul': lambda a, b: (a * b) & M,
    'mulh': lambda a, b: ((s64(a) * s64(b)) >> 64) & M,
    'mulhsu': lambda a, b: ((s64(a) * b) >> 64) & M,
    'mulhu': lambda a, b: (a * b) >> 64,
    'div': div,
    'divu': lambda a, b: M if b == 0 else a // b,
    'rem': rem,
    'remu': lambda a, b: a if b == 0 else a % b,
    'mulw': lambda a, b: sx32(a * b),
    'divw': divw,
    'divuw': lambda a, b: M if (b & 0xffffffff) == 0 else
    sx32((a & 0xffffffff) // (b & 0xffffffff)),
    'remw': remw,
    'remuw': lambda a, b: sx32(a) if (b & 0xffffffff) == 0 else
    sx32((a & 0xffffffff) % (b & 0xffffffff)),
}
I = {
    'addi': lambda a, i: (a + i) & M,
    'slti': lambda a, i: int(s64(a) < i),
    'sltiu': lambda a, i: int(a < (i & M)),
    'xori': lambda a, i: a ^ (i & M),
    'ori': lambda a, i: a | (i & M),
    'andi': lambda a, i: a & (i & M),
    'addiw': lambda a, i: sx32(a + i),
}
SH = {
    'slli': (63, lambda a, s: (a << s) & M),
    'srli': (63, lambda a, s: a >> s),
    'srai': (63, lambda a, s: (s64(a) >> s) & M),
    'slliw': (31, lambda a, s: sx32(a << s)),
    'srliw': (31, lambda a, s: sx32((a & 0xffffffff) >> s)),
    'sraiw': (31, lambda a, s: sx32(s32(a) >> s)),
}
VALS = [0, 1, 2, 3, 7, M, M - 1, 1 << 63, (1 << 63) - 1, 0x80000000,
        0x7fffffff, 0xffffffff, 0xffffffff80000000, 0x123456789abcdef0,
        0xfedcba9876543210, 0x5555555555555555, 0x0000000100000001, 63, 64,
        0x8000000000000001]
IMMS = [0, 1, -1, 2047, -2048, 0x555, -0x556, 31, 32]



# Zba, Zbb, Zbc, Zbs and Zicond, written from the bit-manipulation and
# Zicond specifications' pseudo-code (Unicorn 2.0 implements none of them).
def zx32(v):
    return v & 0xffffffff


def clz(v, w):
    for k in range(w):
        if (v >> (w - 1 - k)) & 1:
            return k
    return w


def ctz(v, w):
    for k in range(w):
        if (v >> k) & 1:
            return k
    return w


def rol(v, s, w):
    m = (1 << w) - 1
    v &= m
    s %= w
    return ((v << s) | (v >> (w - s))) & m


def clmul_full(a, b):
    r = 0
    for k in range(64):
        if (b >> k) & 1:
            r ^= a << k
    return r


def orc_b(v):
    return sum(0xff << k for k in range(0, 64, 8) if (v >> k) & 0xff)


def rev8(v):
    return int.from_bytes(v.to_bytes(8, 'little'), 'big')


BR = {
    'add.uw': lambda a, b: (zx32(a) + b) & M,
    'sh1add': lambda a, b: ((a << 1) + b) & M,
    'sh2add': lambda a, b: ((a << 2) + b) & M,
    'sh3add': lambda a, b: ((a << 3) + b) & M,
    'sh1add.uw': lambda a, b: ((zx32(a) << 1) + b) & M,
    'sh2add.uw': lambda a, b: ((zx32(a) << 2) + b) & M,
    'sh3add.uw': lambda a, b: ((zx32(a) << 3) + b) & M,
    'andn': lambda a, b: a & ~b & M,
    'orn': lambda a, b: (a | ~b) & M,
    'xnor': lambda a, b: ~(a ^ b) & M,
    'max': lambda a, b: a if s64(a) > s64(b) else b,
    'maxu': lambda a, b: max(a, b),
    'min': lambda a, b: a if s64(a) < s64(b) else b,
    'minu': lambda a, b: min(a, b),
    'rol': lambda a, b: rol(a, b & 63, 64),
    'ror': lambda a, b: rol(a, 64 - (b & 63), 64),
    'rolw': lambda a, b: sx32(rol(a, b & 31, 32)),
    'rorw': lambda a, b: sx32(rol(a, 32 - (b & 31), 32)),
    'bclr': lambda a, b: a & ~(1 << (b & 63)) & M,
    'bext': lambda a, b: (a >> (b & 63)) & 1,
    'binv': lambda a, b: a ^ (1 << (b & 63)),
    'bset': lambda a, b: a | (1 << (b & 63)),
    'clmul': lambda a, b: clmul_full(a, b) & M,
    'clmulh': lambda a, b: clmul_full(a, b) >> 64,
    'clmulr': lambda a, b: (clmul_full(a, b) >> 63) & M,
    'czero.eqz': lambda a, b: 0 if b == 0 else a,
    'czero.nez': lambda a, b: a if b == 0 else 0,
}
BU = {
    'clz': lambda a: clz(a, 64),
    'ctz': lambda a: ctz(a, 64),
    'cpop': lambda a: bin(a).count('1'),
    'clzw': lambda a: clz(zx32(a), 32),
    'ctzw': lambda a: ctz(zx32(a), 32),
    'cpopw': lambda a: bin(zx32(a)).count('1'),
    'sext.b': lambda a: ((a & 0xff) ^ 0x80) - 0x80 & M,
    'sext.h': lambda a: ((a & 0xffff) ^ 0x8000) - 0x8000 & M,
    'zext.h': lambda a: a & 0xffff,
    'orc.b': orc_b,
    'rev8': rev8,
}
BSH = {
    'slli.uw': (63, lambda a, s: (zx32(a) << s) & M),
    'rori': (63, lambda a, s: rol(a, 64 - s, 64)),
    'roriw': (31, lambda a, s: sx32(rol(a, 32 - s, 32))),
    'bclri': (63, lambda a, s: a & ~(1 << s) & M),
    'bexti': (63, lambda a, s: (a >> s) & 1),
    'binvi': (63, lambda a, s: a ^ (1 << s)),
    'bseti': (63, lambda a, s: a | (1 << s)),
}
# Binutils 2.40 has no Zicond: the R-type encodings (OP, funct7 7).
INSN = {'czero.eqz': '.insn r 0x33, 5, 7, %s, %s, %s',
        'czero.nez': '.insn r 0x33, 7, 7, %s, %s, %s'}
# Vectors checked by hand against the specifications' examples, which the
# model above must also produce.
HAND = [
    ('clmul', 0x3, 0x3, 0x5),
    ('clmulh', 1 << 63, 1 << 63, 1 << 62),
    ('clmulr', 1 << 63, 1 << 63, 1 << 63),
    ('clmulr', 0x3, 0x3, 0x0),
    ('clmulr', 1 << 63, 0x3, 0x3),
    ('clmul', 0x5, 0x3, 0xf),
    ('clmul', 0x7, 0x7, 0x15),
    ('rev8', 0x0102030405060708, None, 0x0807060504030201),
    ('orc.b', 0x0000ff0001000000, None, 0x0000ff00ff000000),
    ('clz', 1, None, 63),
    ('ctzw', 0, None, 32),
    ('clzw', 0xffffffff00008000, None, 16),
    ('cpopw', 0xffffffff0000000f, None, 4),
    ('ror', 0x1, 1, 1 << 63),
    ('rorw', 0x1, 1, 0xffffffff80000000),
    ('sh3add.uw', 0xffffffff00000001, 0x10, 0x18),
    ('max', M, 1, 1),
    ('maxu', M, 1, M),
    ('sext.b', 0x80, None, 0xffffffffffffff80),
    ('zext.h', 0xfedcba9876543210, None, 0x3210),
    ('bext', 0x8000000000000000, 63, 1),
]


n = 0
out = ['/* Generated by gen-alu.py: do not edit. */', '#include "test.h"',
       'START']


def case(text):
    global n
    n += 1
    out.append(text.replace('@N@', str(n)))


def hexs(v):
    return '0x%x' % (v & M)


def gen_bitmanip():
    for op, a, b, want in HAND:
        got = BU[op](a) if b is None else BR[op](a, b)
        assert got == want, (op, hex(got), hex(want))
    out.insert(2, '\t.option arch, +zba, +zbb, +zbc, +zbs')
    for op, f in BR.items():
        asm = INSN.get(op, op + ' %s, %s, %s')
        for a in VALS[::2] + [VALS[1], VALS[5]]:
            for b in VALS[1::2] + [0, VALS[7]]:
                # Every other case sets rs1 last, so the op takes it
                # from the previous instruction's result (its F_ form).
                case('\tTEST(@N@, a0, %s, li a2, %s; li a1, %s; %s)'
                     % (hexs(f(a, b)), hexs(b), hexs(a),
                        asm % ('a0', 'a1', 'a2')) if n & 1 else
                     '\tTEST(@N@, a0, %s, li a1, %s; li a2, %s; %s)'
                     % (hexs(f(a, b)), hexs(a), hexs(b),
                        asm % ('a0', 'a1', 'a2')))
        case('\tTEST(@N@, a1, %s, li a1, %s; li a2, %s; %s)'
             % (hexs(f(VALS[13], VALS[3])), hexs(VALS[13]), hexs(VALS[3]),
                asm % ('a1', 'a1', 'a2')))
    for op, f in BU.items():
        for a in VALS + [0x00ff000000010080, 0x8000, 0xffff0000ffff]:
            case('\tTEST(@N@, a0, %s, li a1, %s; %s a0, a1)'
                 % (hexs(f(a)), hexs(a), op))
    for op, (mx, f) in BSH.items():
        for a in VALS[::3]:
            for s in sorted({0, 1, 7, 31, mx}):
                case('\tTEST(@N@, a0, %s, li a1, %s; %s a0, a1, %d)'
                     % (hexs(f(a, s)), hexs(a), op, s))
    for op, a, b, want in HAND:
        if b is None:
            case('\tTEST(@N@, a0, %s, li a1, %s; %s a0, a1)'
                 % (hexs(want), hexs(a), op))
        else:
            case('\tTEST(@N@, a0, %s, li a1, %s; li a2, %s; %s a0, a1, a2)'
                 % (hexs(want), hexs(a), hexs(b), op))
    # Writes to x0 are dropped; rd forwarding into the next instruction.
    case('\tTEST(@N@, zero, 0, li a1, 5; clz zero, a1; rev8 x0, a1)')
    case('\tTEST(@N@, a0, 0x8, li a1, 0x300; rev8 a0, a1; rev8 a0, a0; '
         'ctz a0, a0)')
    out.append('\tPASS')
    print('\n'.join(out))


if len(sys.argv) > 1 and sys.argv[1] == 'bitmanip':
    gen_bitmanip()
    sys.exit(0)
for op, f in R.items():
    for a in VALS[::2] + [VALS[1], VALS[5]]:
        for b in VALS[1::2] + [0, VALS[7]]:
            case('\tTEST(@N@, a0, %s, li a1, %s; li a2, %s; %s a0, a1, a2)'
                 % (hexs(f(a, b)), hexs(a), hexs(b), op))
    # rd aliases a source
    case('\tTEST(@N@, a1, %s, li a1, %s; li a2, %s; %s a1, a1, a2)'
         % (hexs(f(VALS[13], VALS[3])), hexs(VALS[13]), hexs(VALS[3]), op))
    case('\tTEST(@N@, a2, %s, li a2, %s; %s a2, a2, a2)'
         % (hexs(f(VALS[14], VALS[14])), hexs(VALS[14]), op))
for op, f in I.items():
    for a in VALS:
        for i in IMMS:
            case('\tTEST(@N@, a0, %s, li a1, %s; %s a0, a1, %d)'
                 % (hexs(f(a, i)), hexs(a), op, i))
for op, (mx, f) in SH.items():
    for a in VALS[::3]:
        for s in sorted({0, 1, 7, 31, mx}):
            case('\tTEST(@N@, a0, %s, li a1, %s; %s a0, a1, %d)'
                 % (hexs(f(a, s)), hexs(a), op, s))
# Writes to x0 are dropped.
case('\tTEST(@N@, zero, 0, li a1, 5; add zero, a1, a1; addi x0, a1, 1)')
for v in [0, 0x12345, 0x7ffff, 0x80000, 0xfffff]:
    res = s32(v << 12) & M
    case('\tTEST(@N@, a0, %s, lui a0, %d)' % (hexs(res), v))
out.append('\tPASS')
print('\n'.join(out))
