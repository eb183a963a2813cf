import Foundation

/// A problem building a profile from a name and `KEY=VALUE` parameters.
public enum ProfileCatalogError: Error, Equatable, CustomStringConvertible {
    case unknownProfile(String)
    case unknownParameter(profile: String, parameter: String)
    case missingParameter(profile: String, parameter: String)
    case invalidValue(profile: String, parameter: String, reason: String)

    public var description: String {
        switch self {
        case .unknownProfile(let name):
            return "unknown profile '\(name)' (known: \(ProfileCatalog.names.joined(separator: ", ")))"
        case .unknownParameter(let profile, let parameter):
            return "unknown parameter '\(parameter)' for \(profile) (known: \(ProfileCatalog.parameters[profile]!.joined(separator: ", ")))"
        case .missingParameter(let profile, let parameter):
            return "\(profile) needs parameter '\(parameter)'"
        case .invalidValue(let profile, let parameter, let reason):
            return "invalid \(profile) parameter '\(parameter)': \(reason)"
        }
    }
}

/// Builds mass profiles from lenstronomy names and parameter names (for `deeplense lens-eval` and scripts).
public enum ProfileCatalog {
    /// Profile names, as in lenstronomy.
    public static let names = ["SIS", "SIE", "SHEAR", "POINT_MASS", "TNFW", "LINE_MASS"]

    /// Accepted parameters per profile (centres and `ra_0`/`dec_0` default to 0, the rest are required).
    public static let parameters: [String: [String]] = [
        "SIS": ["theta_E", "center_x", "center_y"],
        "SIE": ["theta_E", "e1", "e2", "center_x", "center_y"],
        "SHEAR": ["gamma1", "gamma2", "ra_0", "dec_0"],
        "POINT_MASS": ["theta_E", "center_x", "center_y"],
        "TNFW": ["Rs", "alpha_Rs", "r_trunc", "center_x", "center_y"],
        "LINE_MASS": ["theta_E", "length", "angle", "center_x", "center_y"],
    ]

    private static let optional: Set<String> = ["center_x", "center_y", "ra_0", "dec_0"]

    /// Bound on the SIE ellipticity modulus `sqrt(e1^2 + e2^2) = (1 - q)/(1 + q)`: 0.999 is an axis ratio of
    /// 5e-4; at 1 the axis ratio is 0 and the deflection is infinite.
    public static let maximumEllipticity = 0.999

    /// The profile `name` with `values`; throws naming the unknown profile or parameter, or the invalid value:
    /// parameters must be finite; Einstein radii, `Rs`, `r_trunc` and `length` positive; an SIE's ellipticity
    /// modulus below `maximumEllipticity`.
    public static func make(name: String, values: [String: Double]) throws -> any MassProfile {
        guard let accepted = parameters[name] else { throw ProfileCatalogError.unknownProfile(name) }
        for key in values.keys.sorted() where !accepted.contains(key) {
            throw ProfileCatalogError.unknownParameter(profile: name, parameter: key)
        }
        func value(_ key: String) throws -> Double {
            if let v = values[key] { return v }
            if optional.contains(key) { return 0 }
            throw ProfileCatalogError.missingParameter(profile: name, parameter: key)
        }
        func positive(_ key: String) throws -> Double {
            let v = try value(key)
            guard v > 0 else { throw ProfileCatalogError.invalidValue(profile: name, parameter: key, reason: "must be positive, got \(v)") }
            return v
        }
        for key in values.keys.sorted() where !values[key]!.isFinite {
            throw ProfileCatalogError.invalidValue(profile: name, parameter: key, reason: "must be finite, got \(values[key]!)")
        }
        let cx = try value("center_x"), cy = try value("center_y")
        switch name {
        case "SIS": return SIS(thetaE: try positive("theta_E"), centerX: cx, centerY: cy)
        case "SIE":
            let e1 = try value("e1"), e2 = try value("e2")
            guard (e1 * e1 + e2 * e2).squareRoot() < maximumEllipticity else {
                throw ProfileCatalogError.invalidValue(
                    profile: name, parameter: "e1, e2",
                    reason: "sqrt(e1^2 + e2^2) must be below \(maximumEllipticity) (axis ratio above 0), got \((e1 * e1 + e2 * e2).squareRoot())")
            }
            return SIE(thetaE: try positive("theta_E"), e1: e1, e2: e2, centerX: cx, centerY: cy)
        case "SHEAR":
            return ExternalShear(gamma1: try value("gamma1"), gamma2: try value("gamma2"),
                                 centerX: try value("ra_0"), centerY: try value("dec_0"))
        case "POINT_MASS": return PointMass(thetaE: try positive("theta_E"), centerX: cx, centerY: cy)
        case "TNFW":
            return TNFW(Rs: try positive("Rs"), alphaRs: try value("alpha_Rs"), rTrunc: try positive("r_trunc"),
                        centerX: cx, centerY: cy)
        default:
            return LineMass(thetaE: try positive("theta_E"), length: try positive("length"), angle: try value("angle"),
                            centerX: cx, centerY: cy)
        }
    }
}
