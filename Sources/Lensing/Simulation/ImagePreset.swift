import Foundation

/// The pixel grids the simulator renders: DeepLense-like 150x150 at 0.05"/px (default) and Euclid-like
/// 64x64 at 0.1"/px. Pixel `(row, col)` has its centre at
/// `x = (col - (W-1)/2) * pixelScale`, `y = (row - (H-1)/2) * pixelScale` (arcsec, lens at the origin).
public enum ImagePreset: String, CaseIterable, Sendable {
    case deepLense150
    case euclid64

    /// The preset whose images are `size` x `size` pixels (150 or 64), or nil.
    public init?(size: Int) {
        switch size {
        case 150: self = .deepLense150
        case 64: self = .euclid64
        default: return nil
        }
    }

    /// Pixels per side.
    public var size: Int { self == .deepLense150 ? 150 : 64 }
    /// Arcseconds per pixel.
    public var pixelScale: Double { self == .deepLense150 ? 0.05 : 0.1 }
    /// Field of view per side, arcsec.
    public var fieldOfView: Double { Double(size) * pixelScale }
}

/// The three DeepLense classes, with their integer labels.
public enum SubstructureClass: Int, CaseIterable, Sendable {
    /// Smooth lens, no substructure (label 0).
    case none = 0
    /// Cold-dark-matter subhalos (label 1; "spherical" in DeepLense).
    case cdm = 1
    /// A vortex line mass (label 2; superfluid / axion dark matter).
    case vortex = 2

    /// Short lowercase name used in files and tables.
    public var name: String { ["no_sub", "cdm", "vortex"][rawValue] }
}
