#!/usr/bin/env python3
# Generates isa-fpu.S: the F and D arithmetic, fused multiply-adds and
# conversions on edge-case operands in every rounding mode (static and
# dynamic), checking the result bits and the exact fflags.  The expected
# values come from exact rational arithmetic (fractions) rounded here as the
# RISC-V unprivileged spec and IEEE 754-2019 say (tininess after rounding,
# canonical NaN), independently of any FPU.
# usage: gen-fpu.py > isa-fpu.S
import random
import struct
from fractions import Fraction as Fr

NX, UF, OF, DZ, NV = 1, 2, 4, 8, 16
RNE, RTZ, RDN, RUP, RMM = range(5)


class Fmt:
    def __init__(self, p, ebits, name):
        self.p, self.ebits, self.name = p, ebits, name
        self.bias = (1 << (ebits - 1)) - 1
        self.emin, self.emax = 1 - self.bias, self.bias
        self.width = 1 + ebits + p - 1
        self.cnan = ((1 << ebits) - 1) << (p - 1) | 1 << (p - 2)

    def inf(self, s):
        return s << (self.width - 1) | ((1 << self.ebits) - 1) << (self.p - 1)

    def maxf(self, s):
        return self.inf(s) - 1

    def decode(self, b):
        s = b >> (self.width - 1)
        e = (b >> (self.p - 1)) & ((1 << self.ebits) - 1)
        m = b & ((1 << (self.p - 1)) - 1)
        if e == (1 << self.ebits) - 1:
            if m == 0:
                return ('inf', s)
            return ('snan' if not m >> (self.p - 2) else 'qnan', s)
        if e == 0:
            v = Fr(m) * Fr(2) ** (self.emin - self.p + 1)
        else:
            v = Fr(m | 1 << (self.p - 1)) * Fr(2) ** (e - self.bias - self.p + 1)
        return ('num', s, -v if s else v)

    def encode(self, s, a):
        """a: exact nonnegative value representable in the format."""
        if a == 0:
            return s << (self.width - 1)
        if a < Fr(2) ** self.emin:
            m = a / Fr(2) ** (self.emin - self.p + 1)
            assert m.denominator == 1
            return s << (self.width - 1) | int(m)
        e = ilog2(a)
        m = a / Fr(2) ** (e - self.p + 1)
        assert m.denominator == 1
        return (s << (self.width - 1) | (e + self.bias) << (self.p - 1) |
                (int(m) - (1 << (self.p - 1))))

    def round(self, x, rm, zero_sign=0):
        """Round the exact rational x; returns (bits, flags)."""
        if x == 0:
            return self.encode(zero_sign, Fr(0)), 0
        s = 1 if x < 0 else 0
        a = -x if s else x
        e = ilog2(a)

        def rnd(qe):
            sc = a / Fr(2) ** qe
            n = sc.numerator // sc.denominator
            fr = sc - n
            up = False
            if fr:
                if rm == RNE:
                    up = fr > Fr(1, 2) or (fr == Fr(1, 2) and n & 1)
                elif rm == RMM:
                    up = fr >= Fr(1, 2)
                elif rm == RDN:
                    up = s == 1
                elif rm == RUP:
                    up = s == 0
            return (n + up) * Fr(2) ** qe, fr != 0

        r, inexact = rnd(max(e, self.emin) - (self.p - 1))
        flags = NX if inexact else 0
        if inexact:
            ru, _ = rnd(e - (self.p - 1))
            if ru < Fr(2) ** self.emin:
                flags |= UF
        if r >= Fr(2) ** (self.emax + 1):
            flags = OF | NX
            to_inf = (rm in (RNE, RMM) or (rm == RUP and not s) or
                      (rm == RDN and s))
            return (self.inf(s) if to_inf else self.maxf(s)), flags
        return self.encode(s, r), flags


def ilog2(a):
    e = a.numerator.bit_length() - a.denominator.bit_length()
    if Fr(2) ** e > a:
        e -= 1
    if Fr(2) ** (e + 1) <= a:
        e += 1
    return e


S = Fmt(24, 8, 's')
D = Fmt(53, 11, 'd')


def isnan(d):
    return d[0] in ('snan', 'qnan')


def arith(f, op, ops, rm):
    """op in add sub mul div sqrt fma; ops decoded; returns (bits, fl)."""
    fl = 0
    if any(d[0] == 'snan' for d in ops):
        fl |= NV
    if op == 'fma':
        a, b, c = ops
        if ((a[0] == 'inf' and b[0] == 'num' and b[2] == 0) or
                (b[0] == 'inf' and a[0] == 'num' and a[2] == 0)):
            return f.cnan, NV
    if any(isnan(d) for d in ops):
        return f.cnan, fl
    if op == 'sqrt':
        a = ops[0]
        if a[0] == 'inf':
            return (f.cnan, NV) if a[1] else (f.inf(0), 0)
        if a[2] == 0:
            return f.encode(a[1], Fr(0)), 0
        if a[2] < 0:
            return f.cnan, NV
        return sqrt_round(f, a[2], rm)
    if op in ('add', 'sub'):
        a, b = ops
        if op == 'sub':
            b = neg(b)
        return add_round(f, a, b, rm)
    if op == 'mul':
        a, b = ops
        return mul_dec(f, a, b, rm)
    if op == 'div':
        a, b = ops
        s = a[1] ^ b[1]
        if a[0] == 'inf' and b[0] == 'inf':
            return f.cnan, NV
        if a[0] == 'inf':
            return f.inf(s), 0
        if b[0] == 'inf':
            return f.encode(s, Fr(0)), 0
        if b[2] == 0:
            if a[2] == 0:
                return f.cnan, NV
            return f.inf(s), DZ
        if a[2] == 0:
            return f.encode(s, Fr(0)), 0
        return f.round(a[2] / b[2], rm)
    a, b, c = ops
    p = mul_exact(a, b)
    return add_round(f, p, c, rm)


def neg(d):
    if d[0] == 'num':
        return ('num', d[1] ^ 1, -d[2])
    return (d[0], d[1] ^ 1)


def mul_exact(a, b):
    s = a[1] ^ b[1]
    if a[0] == 'inf' or b[0] == 'inf':
        return ('inf', s)
    return ('num', s, a[2] * b[2])


def mul_dec(f, a, b, rm):
    if (a[0] == 'inf' and b[2 if b[0] == 'num' else 0] == 0) or \
            (b[0] == 'inf' and a[0] == 'num' and a[2] == 0):
        return f.cnan, NV
    p = mul_exact(a, b)
    if p[0] == 'inf':
        return f.inf(p[1]), 0
    if p[2] == 0:
        return f.encode(p[1], Fr(0)), 0
    return f.round(p[2], rm)


def add_round(f, a, b, rm):
    if a[0] == 'inf' and b[0] == 'inf':
        if a[1] != b[1]:
            return f.cnan, NV
        return f.inf(a[1]), 0
    if a[0] == 'inf':
        return f.inf(a[1]), 0
    if b[0] == 'inf':
        return f.inf(b[1]), 0
    x = a[2] + b[2]
    if x == 0:
        if a[2] == 0 and b[2] == 0 and a[1] == b[1]:
            zs = a[1]
        else:
            zs = 1 if rm == RDN else 0
        return f.encode(zs, Fr(0)), 0
    return f.round(x, rm)


def sqrt_round(f, a, rm):
    # Find the correctly rounded root by bisection on the encoding of
    # candidates: r is exact when r*r == a, otherwise compare squares.
    lo, hi = 0, f.inf(0)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        v = f.decode(mid)[2]
        if v * v <= a:
            lo = mid
        else:
            hi = mid
    v = f.decode(lo)[2]
    if v * v == a:
        return lo, 0
    # The root lies strictly between lo and hi (= lo + 1).
    vh = f.decode(hi)[2]
    mid = (v + vh) / 2
    if rm in (RTZ, RDN):
        r = lo
    elif rm == RUP:
        r = hi
    else:
        r = hi if mid * mid < a else lo  # no ties for square roots
    return r, NX


def to_int(f, b, kind, rm):
    lo = [-(1 << 31), 0, -(1 << 63), 0][kind]
    hi = [(1 << 31) - 1, (1 << 32) - 1, (1 << 63) - 1, (1 << 64) - 1][kind]
    d = f.decode(b)
    if isnan(d):
        r, fl = hi, NV
    elif d[0] == 'inf':
        r, fl = (lo if d[1] else hi), NV
    else:
        x = d[2]
        n = x.numerator // x.denominator
        fr = x - n
        if fr:
            if rm == RNE:
                n += fr > Fr(1, 2) or (fr == Fr(1, 2) and n & 1)
            elif rm == RMM:
                n += fr >= Fr(1, 2) if x > 0 else fr > Fr(1, 2)
            elif rm == RUP:
                n += 1
            elif rm == RTZ:
                n += x < 0
        if n < lo:
            r, fl = lo, NV
        elif n > hi:
            r, fl = hi, NV
        else:
            r, fl = n, (NX if fr else 0)
    if kind < 2:
        r &= 0xffffffff
        if r >> 31:
            r |= 0xffffffff00000000
    return r & ((1 << 64) - 1), fl


def from_int(f, v, kind, rm):
    if kind == 0:
        v &= 0xffffffff
        v = v - (1 << 32) if v >> 31 else v
    elif kind == 1:
        v &= 0xffffffff
    elif kind == 2:
        v = v - (1 << 64) if v >> 63 else v
    if v == 0:
        return 0, 0
    return f.round(Fr(v), rm)


def fclass(f, b):
    d = f.decode(b)
    if d[0] == 'snan':
        return 1 << 8
    if d[0] == 'qnan':
        return 1 << 9
    if d[0] == 'inf':
        return 1 << 0 if d[1] else 1 << 7
    a = abs(d[2])
    if a == 0:
        return 1 << 3 if d[1] else 1 << 4
    if a < Fr(2) ** f.emin:
        return 1 << 2 if d[1] else 1 << 5
    return 1 << 1 if d[1] else 1 << 6


def minmax(f, a, b, ismax):
    da, db = f.decode(a), f.decode(b)
    fl = NV if da[0] == 'snan' or db[0] == 'snan' else 0
    if isnan(da) and isnan(db):
        return f.cnan, fl
    if isnan(da):
        return b, fl
    if isnan(db):
        return a, fl
    va = da[2] if da[0] == 'num' else (Fr(-1) if da[1] else Fr(1)) * 10**400
    vb = db[2] if db[0] == 'num' else (Fr(-1) if db[1] else Fr(1)) * 10**400
    if va == vb:
        # -0 < +0
        if ismax:
            return (a if not da[1] else b), fl
        return (a if da[1] else b), fl
    if (va < vb) != ismax:
        return a, fl
    return b, fl


def compare(f, a, b, kind):
    da, db = f.decode(a), f.decode(b)
    if isnan(da) or isnan(db):
        snan = da[0] == 'snan' or db[0] == 'snan'
        return 0, (NV if kind != 'eq' or snan else 0)
    va = da[2] if da[0] == 'num' else (Fr(-1) if da[1] else Fr(1)) * 10**400
    vb = db[2] if db[0] == 'num' else (Fr(-1) if db[1] else Fr(1)) * 10**400
    return int({'eq': va == vb, 'lt': va < vb, 'le': va <= vb}[kind]), 0


def bits_d(x):
    return struct.unpack('<Q', struct.pack('<d', x))[0]


def bits_s(x):
    return struct.unpack('<I', struct.pack('<f', x))[0]


def specials(f):
    bx = bits_d if f is D else bits_s
    v = [0, f.inf(0) & ~f.inf(0), 1 << (f.width - 1),  # +0 -0
         bx(1.0), bx(-1.0), bx(1.5), bx(3.0), bx(0.1), bx(-2.5),
         bx(1.0 / 3), f.maxf(0), f.maxf(1), 1 << (f.p - 1),  # min normal
         1, (1 << (f.p - 1)) - 1,  # min and max subnormal
         (1 << (f.width - 1)) | 3, f.inf(0), f.inf(1), f.cnan,
         f.cnan | 1 << (f.width - 1) | 5, f.inf(0) | 1,  # qNaN, sNaN
         f.encode(0, Fr(2) ** -(f.p)), f.encode(0, 3 * Fr(2) ** -(f.p)),
         f.encode(0, Fr(2) ** (f.emax - 1) * 3)]
    return sorted(set(v))


def randoms(f, rng, n):
    out = []
    for _ in range(n):
        k = rng.randrange(4)
        if k == 0:
            out.append(rng.getrandbits(f.width))
        else:
            # moderate exponents, so sums and products round
            e = rng.randrange(f.bias - 8, f.bias + 8) if k < 3 else \
                rng.choice([1, 2, (1 << f.ebits) - 3, (1 << f.ebits) - 2])
            out.append(rng.getrandbits(1) << (f.width - 1) |
                       e << (f.p - 1) | rng.getrandbits(f.p - 1))
    return out


OUT = []
N = [0]


def emit(body, checks):
    """body: instructions; checks: (reg, expected) pairs.  A check
    branches to the next trampoline (every 100 cases), which reaches fail
    from any distance."""
    N[0] += 1
    if N[0] % 100 == 0:
        OUT.append('\tj 1f')
        OUT.append('tramp_%d: tail fail' % (N[0] // 100))
        OUT.append('1:')
    OUT.append('\tli gp, %d' % N[0])
    OUT.append('\tcsrw fflags, zero')
    for line in body:
        OUT.append('\t' + line)
    for reg, val in checks:
        OUT.append('\tli t6, 0x%x' % val)
        OUT.append('\tbne %s, t6, tramp_%d' % (reg, N[0] // 100 + 1))


def box(f, b):
    return b | 0xffffffff00000000 if f is S else b


def load(f, freg, b):
    return ['li t0, 0x%x' % box(f, b), 'fmv.d.x %s, t0' % freg]


RMNAME = ['rne', 'rtz', 'rdn', 'rup', 'rmm']


def rm_forms(rm, k):
    """Static rounding mode, or dynamic through frm (every other case)."""
    if k & 1:
        return ['fsrmi %d' % rm], 'dyn'
    return [], RMNAME[rm]


def gen_arith(rng):
    for f in (S, D):
        sp = specials(f)
        rs = randoms(f, rng, 24)
        for op in ('add', 'sub', 'mul', 'div'):
            pairs = [(a, b) for a in sp for b in sp][::3]
            pairs += [(rng.choice(rs), rng.choice(rs)) for _ in range(40)]
            for k, (a, b) in enumerate(pairs):
                for rm in (range(5) if k % 4 == 0 or k >= len(pairs) - 40
                           else [k % 5]):
                    r, fl = arith(f, op, [f.decode(a), f.decode(b)], rm)
                    pre, rmn = rm_forms(rm, k)
                    emit(load(f, 'fa1', a) + load(f, 'fa2', b) + pre +
                         ['f%s.%s fa0, fa1, fa2, %s' % (op, f.name, rmn),
                          'fmv.x.d a0, fa0', 'frflags a1'],
                         [('a0', box(f, r)), ('a1', fl)])
        for k, a in enumerate(sp + rs):
            for rm in range(5):
                r, fl = arith(f, 'sqrt', [f.decode(a)], rm)
                pre, rmn = rm_forms(rm, k + rm)
                emit(load(f, 'fa1', a) + pre +
                     ['fsqrt.%s fa0, fa1, %s' % (f.name, rmn),
                      'fmv.x.d a0, fa0', 'frflags a1'],
                     [('a0', box(f, r)), ('a1', fl)])
        trip = [(rng.choice(sp), rng.choice(sp), rng.choice(sp))
                for _ in range(60)]
        trip += [(rng.choice(rs), rng.choice(rs), rng.choice(rs))
                 for _ in range(40)]
        one = f.encode(0, Fr(1))
        tiny = f.encode(0, Fr(2) ** -(f.p))
        trip += [(f.inf(0), 0, f.cnan), (0, f.inf(1), f.cnan),
                 (one, one, tiny), (one, tiny, one),
                 (f.encode(0, 1 + Fr(2) ** (1 - f.p)),
                  f.encode(0, 1 - Fr(2) ** (-f.p)), f.encode(1, Fr(1)))]
        for name, na, nc in (('fmadd', 0, 0), ('fmsub', 0, 1),
                             ('fnmsub', 1, 0), ('fnmadd', 1, 1)):
            for k, (a, b, c) in enumerate(trip):
                for rm in (range(5) if k % 5 == 0 or k >= 60 else [k % 5]):
                    da, db, dc = f.decode(a), f.decode(b), f.decode(c)
                    r, fl = arith(f, 'fma', [neg(da) if na else da, db,
                                             neg(dc) if nc else dc], rm)
                    pre, rmn = rm_forms(rm, k)
                    emit(load(f, 'fa1', a) + load(f, 'fa2', b) +
                         load(f, 'fa3', c) + pre +
                         ['%s.%s fa0, fa1, fa2, fa3, %s' %
                          (name, f.name, rmn),
                          'fmv.x.d a0, fa0', 'frflags a1'],
                         [('a0', box(f, r)), ('a1', fl)])


def gen_cvt(rng):
    names = ['w', 'wu', 'l', 'lu']
    for f in (S, D):
        bx = bits_d if f is D else bits_s
        vals = specials(f) + randoms(f, rng, 10)
        vals += [bx(x) for x in (0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.4999,
                                 2147483647.0, 2147483648.0, -2147483648.0,
                                 -2147483649.0, 4294967295.0, 4294967296.0,
                                 9.223372036854775e18, -9.223372036854776e18,
                                 1.8446744073709552e19, -1.0)]
        for k, a in enumerate(vals):
            for kind in range(4):
                for rm in range(5):
                    r, fl = to_int(f, a, kind, rm)
                    pre, rmn = rm_forms(rm, k + kind)
                    emit(load(f, 'fa1', a) + pre +
                         ['fcvt.%s.%s a0, fa1, %s' % (names[kind], f.name,
                                                      rmn), 'frflags a1'],
                         [('a0', r), ('a1', fl)])
        ints = [0, 1, (1 << 64) - 1, 1 << 63, (1 << 63) - 1, 0x7fffffff,
                0x80000000, 0xffffffff, (1 << 24) + 1, (1 << 53) + 1,
                (1 << 24) + 3, (1 << 54) + 2, 0xfffffffffffff801,
                0x123456789abcdef1] + [rng.getrandbits(64) for _ in range(6)]
        for k, v in enumerate(ints):
            for kind in range(4):
                # fcvt.d.w and fcvt.d.wu are exact: the assembler takes
                # no rounding mode for them.
                exact = f is D and kind < 2
                for rm in ([RNE] if exact else range(5)):
                    r, fl = from_int(f, v, kind, rm)
                    pre, rmn = rm_forms(rm, k + kind)
                    if exact:
                        pre, rmn = [], None
                    emit(['li a1, 0x%x' % v] + pre +
                         ['fcvt.%s.%s fa0, a1%s' % (
                             f.name, names[kind],
                             ', ' + rmn if rmn else ''),
                          'fmv.x.d a0, fa0', 'frflags a1'],
                         [('a0', box(f, r)), ('a1', fl)])
    # fcvt.s.d and fcvt.d.s
    for k, a in enumerate(specials(D) + randoms(D, rng, 20) +
                          [D.encode(0, Fr(1) + Fr(2) ** -24),
                           D.encode(1, Fr(3) * Fr(2) ** -150),
                           D.encode(0, Fr(2) ** -150),
                           D.encode(0, Fr(2) ** 128 - Fr(2) ** 103)]):
        for rm in range(5):
            d = D.decode(a)
            if isnan(d):
                r, fl = S.cnan, (NV if d[0] == 'snan' else 0)
            elif d[0] == 'inf':
                r, fl = S.inf(d[1]), 0
            else:
                r, fl = S.round(d[2], rm, d[1])
            pre, rmn = rm_forms(rm, k)
            emit(load(D, 'fa1', a) + pre +
                 ['fcvt.s.d fa0, fa1, %s' % rmn, 'fmv.x.d a0, fa0',
                  'frflags a1'], [('a0', box(S, r)), ('a1', fl)])
    for a in specials(S) + randoms(S, rng, 20):
        d = S.decode(a)
        if isnan(d):
            r, fl = D.cnan, (NV if d[0] == 'snan' else 0)
        elif d[0] == 'inf':
            r, fl = D.inf(d[1]), 0
        else:
            r, fl = D.encode(d[1], abs(d[2])), 0
        emit(load(S, 'fa1', a) + ['fcvt.d.s fa0, fa1', 'fmv.x.d a0, fa0',
                                  'frflags a1'], [('a0', r), ('a1', fl)])


def gen_misc(rng):
    for f in (S, D):
        sp = specials(f)
        for a in sp:
            emit(load(f, 'fa1', a) + ['fclass.%s a0, fa1' % f.name],
                 [('a0', fclass(f, a))])
        pairs = [(a, b) for a in sp for b in sp][::2]
        for a, b in pairs:
            for name, ismax in (('fmin', False), ('fmax', True)):
                r, fl = minmax(f, a, b, ismax)
                emit(load(f, 'fa1', a) + load(f, 'fa2', b) +
                     ['%s.%s fa0, fa1, fa2' % (name, f.name),
                      'fmv.x.d a0, fa0', 'frflags a1'],
                     [('a0', box(f, r)), ('a1', fl)])
            for kind in ('eq', 'lt', 'le'):
                r, fl = compare(f, a, b, kind)
                emit(load(f, 'fa1', a) + load(f, 'fa2', b) +
                     ['f%s.%s a0, fa1, fa2' % (kind, f.name), 'frflags a1'],
                     [('a0', r), ('a1', fl)])
            sg = 1 << (f.width - 1)
            for name, r in (('fsgnj', (a & ~sg) | (b & sg)),
                            ('fsgnjn', (a & ~sg) | (~b & sg)),
                            ('fsgnjx', a ^ (b & sg))):
                emit(load(f, 'fa1', a) + load(f, 'fa2', b) +
                     ['%s.%s fa0, fa1, fa2' % (name, f.name),
                      'fmv.x.d a0, fa0', 'frflags a1'],
                     [('a0', box(f, r)), ('a1', 0)])


def main():
    rng = random.Random(13)
    print('/* Generated by gen-fpu.py: do not edit. */')
    print('#include "test.h"')
    print('START')
    print('\tli t0, 0x2000 /* mstatus.FS = Initial */')
    print('\tcsrs mstatus, t0')
    gen_arith(rng)
    gen_cvt(rng)
    gen_misc(rng)
    OUT.append('\tj 1f')
    OUT.append('tramp_%d: tail fail' % (N[0] // 100 + 1))
    OUT.append('1:')
    print('\n'.join(OUT))
    print('\ttail pass')


main()
