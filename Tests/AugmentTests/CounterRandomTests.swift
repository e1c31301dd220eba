import Augment
import Testing

@Suite struct CounterRandomTests {
    /// Random123's known-answer vectors for philox4x32_10 (kat_vectors).
    @Test(arguments: [
        (SIMD4<UInt32>(0, 0, 0, 0), SIMD2<UInt32>(0, 0), SIMD4<UInt32>(0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8)),
        (
            SIMD4<UInt32>(repeating: 0xffff_ffff), SIMD2<UInt32>(repeating: 0xffff_ffff),
            SIMD4<UInt32>(0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd)
        ),
        (
            SIMD4<UInt32>(0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344), SIMD2<UInt32>(0xa409_3822, 0x299f_31d0),
            SIMD4<UInt32>(0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1)
        ),
    ])
    func philoxMatchesTheReferenceVectors(counter: SIMD4<UInt32>, key: SIMD2<UInt32>, expected: SIMD4<UInt32>) {
        #expect(Philox4x32.block(counter: counter, key: key) == expected)
    }

    @Test func drawsArePureFunctionsOfSeedIndexCopyAndSlot() {
        let a = SampleRandom(seed: 42, index: 7, copy: 2)
        #expect(a.uniform(.rotation) == SampleRandom(seed: 42, index: 7, copy: 2).uniform(.rotation))
        // Any change of key or counter changes the draw.
        let others = [
            SampleRandom(seed: 43, index: 7, copy: 2), SampleRandom(seed: 42, index: 8, copy: 2),
            SampleRandom(seed: 42, index: 7, copy: 3), SampleRandom(seed: 42, index: 7 + (1 << 32), copy: 2),
        ]
        for other in others { #expect(other.uniform(.rotation) != a.uniform(.rotation)) }
        #expect(a.uniform(.rotation) != a.uniform(.shear))
    }

    @Test func uniformDrawsCoverTheUnitIntervalEvenly() {
        var buckets = [Int](repeating: 0, count: 10)
        for index in 0..<20_000 {
            let u = SampleRandom(seed: 1, index: index, copy: 0).uniform(.zoomX)
            #expect(u >= 0 && u < 1)
            buckets[Int(u * 10)] += 1
        }
        #expect(buckets.allSatisfy { abs($0 - 2000) < 200 }, "\(buckets)")
        let u = SampleRandom(seed: 1, index: 0, copy: 0)
        let x = u.uniform(.brightness, from: 0.8, to: 1.2)
        #expect(x == 0.8 + (1.2 - 0.8) * u.uniform(.brightness))
    }
}
