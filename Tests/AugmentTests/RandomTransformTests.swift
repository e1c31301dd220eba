import Augment
import Codecs
import TestSupport
import Testing

@Suite struct RandomTransformTests {
    let size = PixelSize(width: 40, height: 20)

    func draws(_ random: RandomTransform, _ convention: AugmentConvention = .corrected, count: Int = 2000) -> [TransformParameters] {
        (0..<count).map { random.parameters(outputSize: size, random: SampleRandom(seed: 9, index: $0, copy: 1), convention: convention) }
    }

    @Test func tutorialDrawsStayInRange() {
        let random = RandomTransform(
            rotation: 40, widthShift: .uniform(0.2), heightShift: .uniform(0.2), shear: 20,
            zoom: 0.8...1.2, horizontalFlip: true, channelShift: 30,
            brightness: 0.5...1.5)
        let all = draws(random)
        for p in all {
            #expect(abs(p.theta) <= 40 && abs(p.shear) <= 20)
            #expect(abs(p.tx) <= 0.2 * 40 && abs(p.ty) <= 0.2 * 20)  // width scales x, height scales y
            #expect((0.8...1.2).contains(p.zx) && (0.8...1.2).contains(p.zy))
            #expect(abs(p.channelShift!) <= 30 && (0.5...1.5).contains(p.brightness!))
            #expect(!p.flipVertical)
        }
        // Independent zoom draws (aspect distortion, as Keras); about half the images flipped.
        #expect(all.filter { $0.zx != $0.zy }.count == all.count)
        let flipped = all.filter(\.flipHorizontal).count
        #expect(abs(flipped - 1000) < 120)
        #expect(all.map(\.theta).max()! > 38 && all.map(\.theta).min()! < -38)
    }

    @Test func keepAspectDrawsOneZoom() {
        for p in draws(RandomTransform(zoom: 0.5...2, keepAspect: true), count: 200) {
            #expect(p.zx == p.zy && (0.5...2).contains(p.zx))
        }
    }

    @Test func offTransformsAreNotDrawn() {
        let p = draws(RandomTransform(), count: 1)[0]
        #expect(p == TransformParameters())
        #expect(p.recorded == [0, 0, 0, 0, 1, 1, 0, 0, 0, 1])
        #expect(TransformParameters.recordedNames.count == p.recorded.count)
    }

    @Test func shiftFormsFollowKeras() {
        // Integer N: whole pixels −(N−1) … N−1.
        let whole = Set(draws(RandomTransform(widthShift: .wholePixels(3))).map(\.tx))
        #expect(whole == [-2, -1, 0, 1, 2])
        // A list: one of the values times a random sign; pixels when the largest is ≥ 1.
        let listed = Set(draws(RandomTransform(widthShift: .choices([5, 10]))).map(\.tx))
        #expect(listed == [-10, -5, 5, 10])
        // A list of fractions scales by the size.
        #expect(Set(draws(RandomTransform(heightShift: .choices([0.5]))).map(\.ty)) == [-10, 10])
        // A float ≥ 1 is a uniform range of pixels.
        let pixels = draws(RandomTransform(widthShift: .uniform(3))).map(\.tx)
        #expect(pixels.allSatisfy { abs($0) <= 3 } && pixels.contains { $0 != $0.rounded() })
    }

    @Test func kerasCompatFeedsTxFromTheHeightRange() {
        // Keras's quirk Q1: width_shift_range ends up in ty (rows), height_shift_range in tx.
        let random = RandomTransform(widthShift: .choices([5]), heightShift: .choices([0.25]))
        for p in draws(random, .kerasCompat, count: 100) {
            #expect(abs(p.ty) == 5)  // the width range, in pixels, applied along y
            #expect(abs(p.tx) == 0.25 * 20)  // the height range, scaled by the height, applied along x
        }
        for p in draws(random, count: 100) {
            #expect(abs(p.tx) == 5 && abs(p.ty) == 5)
        }
    }

    @Test func drawsDoNotDependOnOtherTransforms() {
        // Each transform has its own counter slot: adding shear leaves the rotations unchanged.
        let plain = draws(RandomTransform(rotation: 30), count: 50).map(\.theta)
        let more = draws(RandomTransform(rotation: 30, shear: 10, horizontalFlip: true), count: 50).map(\.theta)
        #expect(plain == more)
    }

    @Test(arguments: [
        RandomTransform(rotation: -1), RandomTransform(shear: 95), RandomTransform(zoom: 0...1.5),
        RandomTransform(channelShift: -3), RandomTransform(widthShift: .uniform(-0.1)), RandomTransform(heightShift: .wholePixels(-2)),
    ])
    func invalidRangesAreRejected(random: RandomTransform) {
        expectError(AugmentError.self, .invalidOption) { try random.validate() }
    }

    @Test func rangesFromRawNumbersAreCheckedBeforeTheyAreBuiltAndNameTheirParameter() throws {
        #expect(try RandomTransform.zoomRange(0.2) == 0.8...1.2)
        for z in [Double.nan, -0.1, 1.5, .infinity] {
            #expect(expectError(AugmentError.self, .invalidOption) { try RandomTransform.zoomRange(z) }?.parameter == "zoom")
        }
        for (low, high) in [(Double.nan, Double.nan), (2, 1), (0.5, .nan)] {
            let error = expectError(AugmentError.self, .invalidOption) { try RandomTransform.range(low, high, parameter: "brightness") }
            #expect(error?.place == "brightness")
        }
        let error = expectError(AugmentError.self, .invalidOption) { try RandomTransform(heightShift: .uniform(-1)).validate() }
        #expect(error?.parameter == "heightShift")
    }
}
