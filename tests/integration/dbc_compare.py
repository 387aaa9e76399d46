#!/usr/bin/python3
# dbc_compare.py: our DBC decoder (tests/dbc_dump) against python3-canmatrix
#
# Usage: dbc_compare.py DBC_DUMP [SHARED]   (SHARED defaults to $DTCD_SHARED)
#
# For every DBC in SHARED/data/dbc and SHARED/data/dbc-conformance that both
# canmatrix and we load, generates frames (seeded random bytes; for
# multiplexed messages also frames selecting every multiplexor value the DBC
# defines, along every cascade), decodes them with canmatrix and with
# dbc_dump, and compares every value (relative 1e-9, floats exactly) and
# which signals a multiplexed frame carries.
#
# Where canmatrix is wrong (see CANMATRIX_WRONG) the signal set is pinned
# from the DBC by hand; the values are then still checked against
# canmatrix's flat Frame.unpack(), which does not involve multiplexing.
import contextlib
import decimal
import io
import math
import os
import random
import subprocess
import sys
import tempfile

with contextlib.redirect_stdout(io.StringIO()):
    import canmatrix.formats  # prints "ldf is not supported" on import

# Files we reject on purpose (tests/test_dbc.c checks the messages):
REJECTED = {
    # cantools' own test expects an error: Signal1 starts at bit 8 of a
    # 1-byte message; canmatrix loads it but cannot decode it.
    'bad_message_length.dbc': 40,
    # standard IDs above 0x7FF without the extended flag (bit 31); cantools
    # (strict) rejects, canmatrix logs an error for each BO_ and drops them.
    'issue_199.dbc': 45,
    # BO_ 4294967295: bit 31 set but the ID has 31 bits, not 29.
    'issue_199_extended.dbc': 45,
}

# Signal sets pinned by hand where canmatrix's Frame.decode() is wrong.
# Key: (file, message); value: function(raw multiplexor values by name) ->
# the set of signal names the frame carries according to the DBC.
def _multiplex_message1(mux):
    # multiplex.dbc: BIT_K/D/B/F/H/E/A are "m24" without SG_MUL_VAL_, so
    # Multiplexor == 24 selects them; BIT_L/G/C/J have SG_MUL_VAL_ 8, 16,
    # 24. canmatrix, once any SG_MUL_VAL_ exists, only shows signals that
    # have one, so it never shows BIT_K and friends.
    s = {'Multiplexor'}
    if mux['Multiplexor'] in (8, 16, 24):
        s |= {'BIT_L', 'BIT_G', 'BIT_C', 'BIT_J'}
    if mux['Multiplexor'] == 24:
        s |= {'BIT_K', 'BIT_D', 'BIT_B', 'BIT_F', 'BIT_H', 'BIT_E',
              'BIT_A'}
    return s


def _indep_multiplexors(mux):
    # issue_184_extended_mux_independent_multiplexors(_dumped).dbc: MUX_A
    # and MUX_B are two independent top-level multiplexors; canmatrix
    # follows only the first one it finds (MUX_B) and drops MUX_A and its
    # signals from every frame.
    s = {'MUX_A', 'MUX_B'}
    s |= {'muxed_A_0'} if mux['MUX_A'] == 0 else set()
    s |= {'muxed_A_1'} if mux['MUX_A'] == 1 else set()
    s |= {'muxed_B_1'} if mux['MUX_B'] == 1 else set()
    s |= {'muxed_B_2'} if mux['MUX_B'] == 2 else set()
    return s


def _multiplex_2_extended(mux):
    # multiplex_2(_dumped).dbc, message Extended: S0 and S6 are both
    # top-level multiplexors (M); S1 (m0M) is switched by S0. canmatrix
    # follows only S6 (first in the signal list) and drops S0..S5.
    s = {'S0', 'S6'}
    if mux['S0'] == 0:
        s.add('S1')
        if mux['S1'] == 0:
            s |= {'S2', 'S3'}
        if mux['S1'] == 2:
            s.add('S4')
    if mux['S0'] == 1:
        s.add('S5')
    if mux['S6'] == 1:
        s.add('S7')
    if mux['S6'] == 2:
        s.add('S8')
    return s


def _mux_multiple_values(mux):
    # issue_184_extended_mux_multiple_values.dbc: muxed_1 (m1) and muxed_2
    # (m2) have no SG_MUL_VAL_, so MUX == 1 / 2 selects them (cantools'
    # _dumped copy of this file writes exactly that as "MUX 1-1" and "MUX
    # 2-2"); canmatrix drops them because muxed_0_3_4_5 has an SG_MUL_VAL_.
    s = {'MUX'}
    s |= {'muxed_1'} if mux['MUX'] == 1 else set()
    s |= {'muxed_2'} if mux['MUX'] == 2 else set()
    s |= {'muxed_0_3_4_5'} if mux['MUX'] in (0, 3, 4, 5) else set()
    return s


CANMATRIX_WRONG = {
    # multiplex_choices.dbc Message1 and Message2 are multiplex.dbc's
    # Message1 again (same signals, same SG_MUL_VAL_); Message3 agrees.
    ('multiplex_choices.dbc', 'Message1'): _multiplex_message1,
    ('multiplex_choices.dbc', 'Message2'): _multiplex_message1,
    ('issue_184_extended_mux_multiple_values.dbc',
     'ext_MUX_multiple_values'): _mux_multiple_values,
    ('multiplex.dbc', 'Message1'): _multiplex_message1,
    ('multiplex_dumped.dbc', 'Message1'): _multiplex_message1,
    ('issue_184_extended_mux_independent_multiplexors.dbc',
     'ext_MUX_indep_multiplexors'): _indep_multiplexors,
    ('issue_184_extended_mux_independent_multiplexors_dumped.dbc',
     'ext_MUX_indep_multiplexors'): _indep_multiplexors,
    ('multiplex_2.dbc', 'Extended'): _multiplex_2_extended,
    ('multiplex_2_dumped.dbc', 'Extended'): _multiplex_2_extended,
}

# Vector's container for signals without a message: not a frame.
INDEPENDENT = 'VECTOR__INDEPENDENT_SIG_MSG'
RANDOM_FRAMES = 12


def load_canmatrix(path):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        db = canmatrix.formats.loadp_flat(path)
    return db, out.getvalue()


def set_bits(data, sig, raw):
    """Writes raw into the signal's bits, DBC bit numbering."""
    raw &= (1 << sig.size) - 1
    start = sig.get_startbit(bit_numbering=1)  # as written in the DBC
    if sig.is_little_endian:
        for i in range(sig.size):
            pos = start + i
            bit = (raw >> i) & 1
            data[pos // 8] = (data[pos // 8] & ~(1 << (pos % 8))) | \
                (bit << (pos % 8))
    else:
        msb0 = (start // 8) * 8 + 7 - start % 8
        for i in range(sig.size):
            pos = msb0 + sig.size - 1 - i  # MSB0 index of raw bit i
            shift = 7 - pos % 8
            bit = (raw >> i) & 1
            data[pos // 8] = (data[pos // 8] & ~(1 << shift)) | \
                (bit << shift)


def mux_tree(frame):
    """parent multiplexor and raw ranges of each multiplexed signal, as the
    DBC defines them (SG_MUL_VAL_ or mN under the one top-level M)."""
    tops = [s for s in frame.signals
            if s.is_multiplexer and s.mux_val is None
            and s.muxer_for_signal is None]
    tree = {}
    for s in frame.signals:
        if s.muxer_for_signal is not None:
            tree[s.name] = (frame.signal_by_name(s.muxer_for_signal),
                            [tuple(g) for g in s.mux_val_grp])
        elif s.mux_val is not None:
            assert len(tops) == 1, (frame.name, s.name)
            tree[s.name] = (tops[0], [(s.mux_val, s.mux_val)])
    return tree


def frames_for(frame, rng):
    """Random payloads plus, per multiplexed signal, payloads that select
    it (each cascade level set to the low, high and a middle value)."""
    out = []
    for _ in range(RANDOM_FRAMES):
        out.append(bytearray(rng.getrandbits(8) for _ in range(frame.size)))
    tree = mux_tree(frame)
    for name in tree:
        for pick in (0, 1, 2):
            data = bytearray(rng.getrandbits(8) for _ in range(frame.size))
            cur = name
            while cur in tree:
                parent, ranges = tree[cur]
                lo, hi = ranges[rng.randrange(len(ranges))]
                val = (lo, hi, (lo + hi) // 2)[pick]
                set_bits(data, parent, val)
                cur = parent.name
            out.append(data)
    # every value of every multiplexor up to 8 bits: unused values too
    for s in frame.signals:
        if s.is_multiplexer and s.size <= 8:
            for v in range(1 << s.size):
                data = bytearray(rng.getrandbits(8)
                                 for _ in range(frame.size))
                set_bits(data, s, v)
                out.append(data)
    return out


def mux_values(frame, data):
    flat = frame.unpack(bytes(data))
    return {s.name: int(flat[s.name].raw_value)
            for s in frame.signals if s.is_multiplexer}


def close(ours, sig, dec):
    exp = dec.phys_value
    if sig.is_float:
        e = float(exp)
        if math.isnan(e) or math.isinf(e):
            return (math.isnan(e) and math.isnan(ours)) or ours == e
        if sig.factor == 1 and sig.offset == 0:
            return ours == e  # the IEEE value itself: exact
    # the double computation raw * factor + offset has a relative error
    # of ~1e-16 against the terms, not the result (cancellation near 0)
    scale = abs(decimal.Decimal(dec.raw_value) * sig.factor) + \
        abs(sig.offset)
    return abs(decimal.Decimal(repr(ours)) - exp) <= \
        decimal.Decimal('1e-9') * max(scale, decimal.Decimal('1e-300'))


def run_dump(dump, path, frames):
    with tempfile.NamedTemporaryFile('w', suffix='.frames',
                                     delete=False) as f:
        for fr, data in frames:
            ident = fr.arbitration_id
            f.write('%X %d %s\n' % (ident.id, 1 if ident.extended else 0,
                                    bytes(data).hex()))
        name = f.name
    try:
        p = subprocess.run([dump, path, name], capture_output=True,
                           text=True, errors='replace')
    finally:
        os.unlink(name)
    return p


def compare_file(dump, path, stats):
    base = os.path.basename(path)
    db, log = load_canmatrix(path)
    fails = []
    rng = random.Random(base)
    frames = []
    for fr in db.frames:
        if fr.name == INDEPENDENT:
            continue
        for data in frames_for(fr, rng):
            frames.append((fr, data))
    p = run_dump(dump, path, frames)
    if p.returncode != 0:
        return ['%s: dbc_dump failed: %s' % (base, p.stderr.strip())]
    ours = {}
    for line in p.stdout.splitlines():
        idx, msg, sig, val = line.split(' ')
        ours.setdefault(int(idx), {})[sig] = float(val)

    for idx, (fr, data) in enumerate(frames):
        got = ours.get(idx, {})
        flat = fr.unpack(bytes(data))
        pinned = CANMATRIX_WRONG.get((base, fr.name))
        if pinned:
            want = pinned(mux_values(fr, data))
            stats['pinned'] += 1
        else:
            want = set(fr.decode(bytes(data)).keys())
        if set(got) != want:
            fails.append('%s: %s %s: signals differ: canmatrix/DBC %s, '
                         'ours %s' % (base, fr.name, bytes(data).hex(),
                                      sorted(want), sorted(got)))
            continue
        for name, val in got.items():
            sig = fr.signal_by_name(name)
            stats['values'] += 1
            if not close(val, sig, flat[name]):
                fails.append('%s: %s.%s %s: canmatrix %s, ours %r' % (
                    base, fr.name, name, bytes(data).hex(),
                    flat[name].phys_value, val))
        stats['frames'] += 1
    return fails


def main():
    dump = sys.argv[1]
    shared = sys.argv[2] if len(sys.argv) > 2 else os.environ['DTCD_SHARED']
    paths = []
    for d in ('dbc', 'dbc-conformance'):
        top = os.path.join(shared, 'data', d)
        paths += sorted(os.path.join(top, f) for f in os.listdir(top)
                        if f.endswith('.dbc'))
    stats = {'frames': 0, 'values': 0, 'pinned': 0}
    fails = []
    files = 0
    for path in paths:
        base = os.path.basename(path)
        if base in REJECTED:
            # we must reject it, at the line given
            p = subprocess.run([dump, path, os.devnull], capture_output=True,
                               text=True, errors='replace')
            want = '%s:%d: ' % (path, REJECTED[base])
            if p.returncode == 0 or not p.stderr.startswith(want):
                fails.append('%s: expected rejection "%s...", got rc %d %s'
                             % (base, want, p.returncode, p.stderr))
            continue
        files += 1
        fails += compare_file(dump, path, stats)
    print('%d DBC files, %d frames, %d values compared, %d frames with a '
          'hand-pinned signal set, %d files rejected' % (
              files, stats['frames'], stats['values'], stats['pinned'],
              len(REJECTED)))
    for f in fails[:4000]:
        print('FAIL', f)
    if fails:
        print('%d failures' % len(fails))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
