package dev.denseface.core;

/**
 * Head pose (yaw, pitch, roll in degrees) from a face's 520 dense points; a port of
 * {@code sdk/denseface/pose.py} (read its docstring for the frames).
 *
 * <p>A face is modelled as {@code image = s · F · R · X + t} with F = diag(1, −1, 1), X a model-frame
 * point of {@link Topology#meanShape()}, R a proper rotation model → camera frame, s pixels per cm.
 * Angles: {@code R = Rz(roll) · Ry(yaw) · Rx(pitch)}; yaw &gt; 0: nose towards image right; pitch &gt; 0:
 * looking down; roll &gt; 0: counter-clockwise on screen.
 *
 * <p>The least-squares rotation is found with Horn's quaternion method (the top eigenvector of a
 * symmetric 4 × 4 matrix, by Jacobi rotations), which gives the same optimal proper rotation as the
 * Umeyama SVD of pose.py. Immutable and thread-safe.
 */
public final class HeadPose {

    /**
     * A similarity {@code target ≈ scale · R · source + shift}.
     *
     * @param scale s
     * @param rotation R, 3 × 3 row-major, a proper rotation
     * @param shift t, 3 values
     */
    public record Similarity(double scale, double[] rotation, double[] shift) {}

    private final double[] meanShape;

    /** A pose estimator fitting {@code topology}'s mean shape. */
    public HeadPose(Topology topology) {
        float[] m = topology.meanShape();
        meanShape = new double[m.length];
        for (int i = 0; i < m.length; i++) {
            meanShape[i] = m[i];
        }
    }

    /**
     * Least-squares similarity {@code target ≈ s · R · source + t} (Umeyama 1991 / Horn 1987).
     *
     * @param source N × 3 flattened
     * @param target N × 3 flattened, corresponding points
     */
    public static Similarity umeyama(double[] source, double[] target) {
        int n = source.length / 3;
        double[] muS = new double[3], muT = new double[3];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < 3; k++) {
                muS[k] += source[3 * i + k] / n;
                muT[k] += target[3 * i + k] / n;
            }
        }
        double[][] m = new double[3][3]; // m[a][b] = Σ src_a · tgt_b (centred)
        double sourceNorm = 0;
        for (int i = 0; i < n; i++) {
            for (int a = 0; a < 3; a++) {
                double s = source[3 * i + a] - muS[a];
                sourceNorm += s * s;
                for (int b = 0; b < 3; b++) {
                    m[a][b] += s * (target[3 * i + b] - muT[b]);
                }
            }
        }
        double sxx = m[0][0], sxy = m[0][1], sxz = m[0][2];
        double syx = m[1][0], syy = m[1][1], syz = m[1][2];
        double szx = m[2][0], szy = m[2][1], szz = m[2][2];
        double[][] horn = {
            {sxx + syy + szz, syz - szy, szx - sxz, sxy - syx},
            {syz - szy, sxx - syy - szz, sxy + syx, szx + sxz},
            {szx - sxz, sxy + syx, -sxx + syy - szz, syz + szy},
            {sxy - syx, szx + sxz, syz + szy, -sxx - syy + szz},
        };
        double[] q = topEigenvector(horn);
        double w = q[0], x = q[1], y = q[2], z = q[3];
        double[] r = {
            1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
            2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
            2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
        };
        double dot = 0; // Σ tgt · R src = trace(R^T cov) · n, Umeyama's Σ signed singular values
        for (int i = 0; i < n; i++) {
            double s0 = source[3 * i] - muS[0], s1 = source[3 * i + 1] - muS[1], s2 = source[3 * i + 2] - muS[2];
            for (int a = 0; a < 3; a++) {
                dot += (target[3 * i + a] - muT[a]) * (r[3 * a] * s0 + r[3 * a + 1] * s1 + r[3 * a + 2] * s2);
            }
        }
        double scale = dot / sourceNorm;
        double[] shift = new double[3];
        for (int a = 0; a < 3; a++) {
            shift[a] = muT[a] - scale * (r[3 * a] * muS[0] + r[3 * a + 1] * muS[1] + r[3 * a + 2] * muS[2]);
        }
        return new Similarity(scale, r, shift);
    }

    /** Unit eigenvector of the largest eigenvalue of a symmetric matrix (cyclic Jacobi). */
    static double[] topEigenvector(double[][] symmetric) {
        int n = symmetric.length;
        double[][] a = new double[n][];
        for (int i = 0; i < n; i++) {
            a[i] = symmetric[i].clone();
        }
        double[][] v = new double[n][n];
        for (int i = 0; i < n; i++) {
            v[i][i] = 1;
        }
        for (int sweep = 0; sweep < 100; sweep++) {
            double off = 0, total = 0;
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    total += a[i][j] * a[i][j];
                    if (i != j) {
                        off += a[i][j] * a[i][j];
                    }
                }
            }
            if (off <= 1e-30 * total || off == 0) {
                break;
            }
            for (int p = 0; p < n - 1; p++) {
                for (int q = p + 1; q < n; q++) {
                    if (a[p][q] == 0) {
                        continue;
                    }
                    double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
                    double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
                    if (theta == 0) {
                        t = 1;
                    }
                    double c = 1 / Math.sqrt(t * t + 1), s = t * c;
                    for (int k = 0; k < n; k++) { // A ← A · J
                        double akp = a[k][p], akq = a[k][q];
                        a[k][p] = c * akp - s * akq;
                        a[k][q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < n; k++) { // A ← Jᵀ · A
                        double apk = a[p][k], aqk = a[q][k];
                        a[p][k] = c * apk - s * aqk;
                        a[q][k] = s * apk + c * aqk;
                    }
                    for (int k = 0; k < n; k++) { // V ← V · J
                        double vkp = v[k][p], vkq = v[k][q];
                        v[k][p] = c * vkp - s * vkq;
                        v[k][q] = s * vkp + c * vkq;
                    }
                }
            }
        }
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (a[i][i] > a[best][best]) {
                best = i;
            }
        }
        double[] out = new double[n];
        double norm = 0;
        for (int i = 0; i < n; i++) {
            out[i] = v[i][best];
            norm += out[i] * out[i];
        }
        norm = Math.sqrt(norm);
        for (int i = 0; i < n; i++) {
            out[i] /= norm;
        }
        return out;
    }

    /** 3 × 3 row-major rotation {@code Rz(roll) · Ry(yaw) · Rx(pitch)} from angles in degrees. */
    public static double[] rotationFromAngles(double yawDeg, double pitchDeg, double rollDeg) {
        double y = Math.toRadians(yawDeg), p = Math.toRadians(pitchDeg), r = Math.toRadians(rollDeg);
        double cy = Math.cos(y), sy = Math.sin(y), cp = Math.cos(p), sp = Math.sin(p), cr = Math.cos(r), sr = Math.sin(r);
        return new double[] {
            cr * cy, cr * sy * sp - sr * cp, cr * sy * cp + sr * sp,
            sr * cy, sr * sy * sp + cr * cp, sr * sy * cp - cr * sp,
            -sy, cy * sp, cy * cp,
        };
    }

    /** (yaw, pitch, roll) in degrees of a 3 × 3 row-major rotation {@code Rz(roll) · Ry(yaw) · Rx(pitch)} (yaw in ±90°). */
    public static double[] anglesFromRotation(double[] r) {
        double yaw = Math.asin(Math.max(-1.0, Math.min(1.0, -r[6])));
        double pitch = Math.atan2(r[7], r[8]);
        double roll = Math.atan2(r[3], r[0]);
        return new double[] {Math.toDegrees(yaw), Math.toDegrees(pitch), Math.toDegrees(roll)};
    }

    /**
     * Similarity from the model frame to the image frame: {@code points ≈ s · F · R · meanShape + t},
     * s pixels per cm, R model → camera frame, t image pixels.
     *
     * @param points 520 × (x, y, z) image-frame points, flattened
     * @throws IllegalArgumentException for a wrong length or non-finite points
     */
    public Similarity fitSimilarity(float[] points) {
        if (points.length != meanShape.length) {
            throw new IllegalArgumentException("expected " + meanShape.length / 3 + " x 3 points, got " + points.length + " values");
        }
        double[] target = new double[points.length];
        for (int i = 0; i < points.length; i++) {
            if (!Float.isFinite(points[i])) {
                throw new IllegalArgumentException("points contain non-finite values");
            }
            target[i] = i % 3 == 1 ? -points[i] : points[i]; // F: image frame → camera frame
        }
        Similarity fit = umeyama(meanShape, target);
        double[] shift = fit.shift().clone();
        shift[1] = -shift[1];
        return new Similarity(fit.scale(), fit.rotation(), shift);
    }

    /**
     * (yaw, pitch, roll) in degrees of a face's 520 image-frame points (a rigid fit of the mean shape).
     *
     * @throws IllegalArgumentException for a wrong length or non-finite points
     */
    public double[] headPose(float[] points) {
        return anglesFromRotation(fitSimilarity(points).rotation());
    }

    /**
     * Roll in degrees (&gt; 0: counter-clockwise on screen) of the line from the subject's right eye to
     * their left eye, both image pixels (in an unmirrored upright face the right eye has the smaller x).
     */
    public static double rollFromEyes(double rightX, double rightY, double leftX, double leftY) {
        return Math.toDegrees(Math.atan2(-(leftY - rightY), leftX - rightX));
    }
}
