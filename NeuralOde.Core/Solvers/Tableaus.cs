namespace NeuralOde.Core.Solvers;

/// <summary>The explicit Runge–Kutta methods, one static field per method, each with its source.</summary>
/// <remarks>
/// Notation p(q): the propagated solution has order p, the embedded one (used only for the error estimate) order q.
/// Rational coefficients are written as fractions; irrational ones as 17-significant-digit literals from the cited
/// paper. Fixed-step methods have no error estimate; adaptive ones can also be run with a fixed step.
/// </remarks>
public static class Tableaus
{
    /// <summary>Forward Euler, order 1 (Euler 1768).</summary>
    public static readonly ButcherTableau Euler = new("Euler", [0.0], [[]], [1.0], order: 1);

    /// <summary>The explicit midpoint rule, order 2 (Runge 1895).</summary>
    public static readonly ButcherTableau Midpoint = new("Midpoint", [0.0, 1.0 / 2], [[], [1.0 / 2]], [0.0, 1.0], order: 2);

    /// <summary>Heun's method (the explicit trapezoidal rule), order 2 (Heun 1900).</summary>
    public static readonly ButcherTableau Heun = new("Heun", [0.0, 1.0], [[], [1.0]], [1.0 / 2, 1.0 / 2], order: 2);

    /// <summary>Ralston's second-order method, minimum error bound (Ralston 1962, Math. Comp. 16, 431–437).</summary>
    public static readonly ButcherTableau Ralston = new("Ralston", [0.0, 2.0 / 3], [[], [2.0 / 3]], [1.0 / 4, 3.0 / 4], order: 2);

    /// <summary>The classic fourth-order Runge–Kutta method (Kutta 1901; HNW I, Table II.1.2, left).</summary>
    public static readonly ButcherTableau RungeKutta4 = new(
        "RK4",
        [0.0, 1.0 / 2, 1.0 / 2, 1.0],
        [[], [1.0 / 2], [0.0, 1.0 / 2], [0.0, 0.0, 1.0]],
        [1.0 / 6, 1.0 / 3, 1.0 / 3, 1.0 / 6],
        order: 4);

    /// <summary>Kutta's 3/8 rule, order 4 (Kutta 1901; HNW I, Table II.1.2, right). torchdiffeq's "rk4" is this method.</summary>
    public static readonly ButcherTableau ThreeEighths = new(
        "RK 3/8",
        [0.0, 1.0 / 3, 2.0 / 3, 1.0],
        [[], [1.0 / 3], [-1.0 / 3, 1.0], [1.0, -1.0, 1.0]],
        [1.0 / 8, 3.0 / 8, 3.0 / 8, 1.0 / 8],
        order: 4);

    /// <summary>Heun–Euler 2(1): propagates Heun's second-order solution; Euler is the embedded first-order one.</summary>
    public static readonly ButcherTableau HeunEuler21 = new(
        "Heun–Euler 2(1)",
        [0.0, 1.0],
        [[], [1.0]],
        [1.0 / 2, 1.0 / 2],
        order: 2,
        bError: [1.0 / 2 - 1.0, 1.0 / 2],
        embeddedOrder: 1);

    /// <summary>Bogacki–Shampine 3(2), FSAL (Bogacki &amp; Shampine 1989, Appl. Math. Lett. 2(4), 321–325).</summary>
    public static readonly ButcherTableau BogackiShampine32 = new(
        "Bogacki–Shampine 3(2)",
        [0.0, 1.0 / 2, 3.0 / 4, 1.0],
        [[], [1.0 / 2], [0.0, 3.0 / 4], [2.0 / 9, 1.0 / 3, 4.0 / 9]],
        [2.0 / 9, 1.0 / 3, 4.0 / 9, 0.0],
        order: 3,
        bError: [2.0 / 9 - 7.0 / 24, 1.0 / 3 - 1.0 / 4, 4.0 / 9 - 1.0 / 3, -1.0 / 8],
        embeddedOrder: 2);

    /// <summary>Fehlberg 4(5) (RKF45): propagates the fourth-order solution; the fifth-order one only estimates the error (Fehlberg 1969, NASA TR R-315, Table III).</summary>
    public static readonly ButcherTableau Fehlberg45 = new(
        "Fehlberg 4(5)",
        [0.0, 1.0 / 4, 3.0 / 8, 12.0 / 13, 1.0, 1.0 / 2],
        [
            [],
            [1.0 / 4],
            [3.0 / 32, 9.0 / 32],
            [1932.0 / 2197, -7200.0 / 2197, 7296.0 / 2197],
            [439.0 / 216, -8.0, 3680.0 / 513, -845.0 / 4104],
            [-8.0 / 27, 2.0, -3544.0 / 2565, 1859.0 / 4104, -11.0 / 40],
        ],
        [25.0 / 216, 0.0, 1408.0 / 2565, 2197.0 / 4104, -1.0 / 5, 0.0],
        order: 4,
        bError: [25.0 / 216 - 16.0 / 135, 0.0, 1408.0 / 2565 - 6656.0 / 12825, 2197.0 / 4104 - 28561.0 / 56430, -1.0 / 5 + 9.0 / 50, -2.0 / 55],
        embeddedOrder: 5);

    /// <summary>Cash–Karp 5(4): propagates the fifth-order solution (Cash &amp; Karp 1990, ACM TOMS 16(3), 201–222, Table 2).</summary>
    public static readonly ButcherTableau CashKarp54 = new(
        "Cash–Karp 5(4)",
        [0.0, 1.0 / 5, 3.0 / 10, 3.0 / 5, 1.0, 7.0 / 8],
        [
            [],
            [1.0 / 5],
            [3.0 / 40, 9.0 / 40],
            [3.0 / 10, -9.0 / 10, 6.0 / 5],
            [-11.0 / 54, 5.0 / 2, -70.0 / 27, 35.0 / 27],
            [1631.0 / 55296, 175.0 / 512, 575.0 / 13824, 44275.0 / 110592, 253.0 / 4096],
        ],
        [37.0 / 378, 0.0, 250.0 / 621, 125.0 / 594, 0.0, 512.0 / 1771],
        order: 5,
        bError: [37.0 / 378 - 2825.0 / 27648, 0.0, 250.0 / 621 - 18575.0 / 48384, 125.0 / 594 - 13525.0 / 55296, -277.0 / 14336, 512.0 / 1771 - 1.0 / 4],
        embeddedOrder: 4);

    /// <summary>
    /// Dormand–Prince 5(4) (DOPRI5), FSAL, propagating the fifth-order solution (Dormand &amp; Prince 1980, J. Comput.
    /// Appl. Math. 6(1), 19–26; HNW I, Table II.5.2), with Shampine's (1986, Math. Comp. 46, 135–150) fourth-order
    /// continuous extension: the quartic through y0, y1, f0, f1 and his midpoint value.
    /// </summary>
    public static readonly ButcherTableau DormandPrince54 = DormandPrince(shampineEstimate: false);

    /// <summary>
    /// Dormand–Prince 5(4) with Shampine's alternative embedded fourth-order weights b̂ = (1951/21600, 0, 22642/50085,
    /// 451/720, −12231/42400, 649/6300, 1/60) (Shampine 1986, Math. Comp. 46, 135–150): the same propagated solution and
    /// continuous extension as <see cref="DormandPrince54"/>, a different error estimate. torchdiffeq's "dopri5" is this
    /// pair, so the torchdiffeq-compatible preset uses it.
    /// </summary>
    public static readonly ButcherTableau DormandPrinceShampine54 = DormandPrince(shampineEstimate: true);

    /// <summary>
    /// Tsitouras 5(4), FSAL, propagating the fifth-order solution, with its own fourth-order continuous extension
    /// (Tsitouras 2011, Comput. Math. Appl. 62(2), 770–775, Table 1 and the interpolant of §3).
    /// </summary>
    public static readonly ButcherTableau Tsitouras54 = Tsitouras();

    /// <summary>
    /// Prince–Dormand RK8(7)13M, propagating the eighth-order solution (Prince &amp; Dormand 1981, J. Comput. Appl.
    /// Math. 7(1), 67–75, Table 2), as torchdiffeq's "dopri8": the 13 stages plus f(t1, y1) appended as a 14th FSAL
    /// stage, so a step still costs 13 evaluations and the continuous extension has f1.
    /// </summary>
    /// <remarks>
    /// Its coefficients are the paper's rational approximations, so the order conditions hold to about 1e-15, not
    /// exactly. DOP853's special error estimator (HNW I §II.10) does not fit the tableau model and is not used. Dense
    /// output: the sixth-degree continuous-extension weights distributed with torchdiffeq's dopri8 coefficients
    /// (torchdiffeq evaluates them only at θ = 1/2; here they are used for every θ).
    /// </remarks>
    public static readonly ButcherTableau PrinceDormand87 = PrinceDormand();

    /// <summary>Every method above, for tests and benchmarks that run over all of them.</summary>
    public static IReadOnlyList<ButcherTableau> All { get; } =
    [
        Euler, Midpoint, Heun, Ralston, RungeKutta4, ThreeEighths,
        HeunEuler21, BogackiShampine32, Fehlberg45, CashKarp54, DormandPrince54, DormandPrinceShampine54, Tsitouras54, PrinceDormand87,
    ];

    private static ButcherTableau DormandPrince(bool shampineEstimate)
    {
        double[] b = [35.0 / 384, 0.0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84, 0.0];
        // Shampine's midpoint weights: y(t0 + h/2) = y0 + h·Σ cMid_i·k_i (Shampine 1986; also torchdiffeq's DPS_C_MID).
        double[] cMid =
        [
            6025192743.0 / 30085553152 / 2, 0.0, 51252292925.0 / 65400821598 / 2, -2691868925.0 / 45128329728 / 2,
            187940372067.0 / 1594534317056 / 2, -1776094331.0 / 19743644256 / 2, 11237099.0 / 235043384 / 2,
        ];
        double[] bHat = shampineEstimate
            ? [1951.0 / 21600, 0.0, 22642.0 / 50085, 451.0 / 720, -12231.0 / 42400, 649.0 / 6300, 1.0 / 60]
            : [5179.0 / 57600, 0.0, 7571.0 / 16695, 393.0 / 640, -92097.0 / 339200, 187.0 / 2100, 1.0 / 40];
        return new ButcherTableau(
            shampineEstimate ? "Dormand–Prince–Shampine 5(4)" : "Dormand–Prince 5(4)",
            [0.0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1.0, 1.0],
            [
                [],
                [1.0 / 5],
                [3.0 / 40, 9.0 / 40],
                [44.0 / 45, -56.0 / 15, 32.0 / 9],
                [19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729],
                [9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656],
                [35.0 / 384, 0.0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84],
            ],
            b,
            order: 5,
            bError: [.. b.Zip(bHat, (x, y) => x - y)],
            embeddedOrder: 4,
            denseOutput: MidpointQuartic(b, cMid));
    }

    private static ButcherTableau Tsitouras()
    {
        // Tsitouras 2011, Table 1 (17 significant digits of the published values).
        double[] b = [0.096460766818065230, 0.01, 0.47988965041449957, 1.3790085741037419, -3.2900695154360807, 2.3247105240997740, 0.0];
        double[] bHat = [0.094680755765839458, 0.0091835655403432531, 0.48777052842476157, 1.2342975669304790, -2.7077123499835255, 1.8666284181705870, 1.0 / 66];
        // The interpolant of Tsitouras 2011 §3, in factored form: b_i(θ) as products of (θ − root) factors.
        double[] theta = [0.0, 1.0];
        double[] theta2 = [0.0, 0.0, 1.0];
        double[][] dense =
        [
            Product(-1.0530884977290216, theta, [-1.3299890189751412, 1.0], [0.7139816917074209, -1.4364028541716351, 1.0]),
            Product(0.1017, theta2, [1.2949852507374631, -2.1966568338249754, 1.0]),
            Product(2.4906272856512528, theta2, [1.5780346820809249, -2.3853564547206166, 1.0]),
            Product(-16.548102889244903, [-1.2171292729553324, 1.0], [-0.61620406037800089, 1.0], theta2),
            Product(47.379521962819281, [-1.2030712083723626, 1.0], [-0.65804729265354738, 1.0], theta2),
            Product(-34.870657861496610, [-1.2, 1.0], [-2.0 / 3, 1.0], theta2),
            Product(2.5, [-1.0, 1.0], [-0.6, 1.0], theta2),
        ];
        return new ButcherTableau(
            "Tsitouras 5(4)",
            [0.0, 0.161, 0.327, 0.9, 0.98002554090450969, 1.0, 1.0],
            [
                [],
                [0.161],
                [-0.0084806554923569885, 0.33548065549235699],
                [2.8971530571054934, -6.3594484899750748, 4.3622954328695814],
                [5.3258648284392566, -11.748883564062828, 7.4955393428898362, -0.092495066361755249],
                [5.8614554429464200, -12.920969317847109, 8.1593678985761586, -0.071584973281400997, -0.028269050394068383],
                b[..6],
            ],
            b,
            order: 5,
            bError: [.. b.Zip(bHat, (x, y) => x - y)],
            embeddedOrder: 4,
            denseOutput: [.. dense.Select(p => p[1..])]);
    }

    private static ButcherTableau PrinceDormand()
    {
        double[] b =
        [
            14005451.0 / 335480064, 0.0, 0.0, 0.0, 0.0, -59238493.0 / 1068277825, 181606767.0 / 758867731, 561292985.0 / 797845732,
            -1041891430.0 / 1371343529, 760417239.0 / 1151165299, 118820643.0 / 751138087, -528747749.0 / 2220607170, 1.0 / 4, 0.0,
        ];
        double[] bHat =
        [
            13451932.0 / 455176623, 0.0, 0.0, 0.0, 0.0, -808719846.0 / 976000145, 1757004468.0 / 5645159321, 656045339.0 / 265891186,
            -3867574721.0 / 1518517206, 465885868.0 / 322736535, 53011238.0 / 667516719, 2.0 / 45, 0.0, 0.0,
        ];
        double[][] a =
        [
            [],
            [1.0 / 18],
            [1.0 / 48, 1.0 / 16],
            [1.0 / 32, 0.0, 3.0 / 32],
            [5.0 / 16, 0.0, -75.0 / 64, 75.0 / 64],
            [3.0 / 80, 0.0, 0.0, 3.0 / 16, 3.0 / 20],
            [29443841.0 / 614563906, 0.0, 0.0, 77736538.0 / 692538347, -28693883.0 / 1125000000, 23124283.0 / 1800000000],
            [16016141.0 / 946692911, 0.0, 0.0, 61564180.0 / 158732637, 22789713.0 / 633445777, 545815736.0 / 2771057229, -180193667.0 / 1043307555],
            [39632708.0 / 573591083, 0.0, 0.0, -433636366.0 / 683701615, -421739975.0 / 2616292301, 100302831.0 / 723423059, 790204164.0 / 839813087, 800635310.0 / 3783071287],
            [246121993.0 / 1340847787, 0.0, 0.0, -37695042795.0 / 15268766246, -309121744.0 / 1061227803, -12992083.0 / 490766935, 6005943493.0 / 2108947869, 393006217.0 / 1396673457, 123872331.0 / 1001029789],
            [-1028468189.0 / 846180014, 0.0, 0.0, 8478235783.0 / 508512852, 1311729495.0 / 1432422823, -10304129995.0 / 1701304382, -48777925059.0 / 3047939560, 15336726248.0 / 1032824649, -45442868181.0 / 3398467696, 3065993473.0 / 597172653],
            [185892177.0 / 718116043, 0.0, 0.0, -3185094517.0 / 667107341, -477755414.0 / 1098053517, -703635378.0 / 230739211, 5731566787.0 / 1027545527, 5232866602.0 / 850066563, -4093664535.0 / 808688257, 3962137247.0 / 1805957418, 65686358.0 / 487910083],
            [403863854.0 / 491063109, 0.0, 0.0, -5068492393.0 / 434740067, -411421997.0 / 543043805, 652783627.0 / 914296604, 11173962825.0 / 925320556, -13158990841.0 / 6184727034, 3936647629.0 / 1978049680, -160528059.0 / 685178525, 248638103.0 / 1413531060, 0.0],
            b[..13],
        ];
        // Continuous extension b_i(θ) = θ·P_i(θ), P_i of degree 5; coefficients of θ^1 … θ^6 (torchdiffeq dopri8_coefficients.py).
        double[] none = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        double[][] dense =
        [
            [1.0, -6.6910181737837596, 19.999006933368397, -30.061056828966645, 22.139650499809407, -6.3448349392860401],
            none, none, none, none,
            [0.0, -7.6142658045872677, 52.227353279294552, -121.49996277313346, 116.44221495503422, -39.610791985220251],
            [0.0, 10.728139263042887, -46.891916418109362, 83.172100463984772, -67.145131882595720, 20.376121380879144],
            [0.0, 0.55266370637536488, -0.18908932250105955, 9.5724507555993664, -16.567224352749652, 7.3347098826795362],
            [0.0, 4.2186562625665154, -35.707597594622207, 87.840605767720565, -89.991601484724502, 32.880177435245916],
            [0.0, -0.66272091253615976, 6.2736448083240352, -17.415210777076297, 22.623748964853285, -10.158899052642676],
            [0.0, -1.2636789001135462, 10.316088127245075, -28.590328951479098, 32.236234016735537, -12.540126809878256],
            [0.0, 5.4106037898590422, -34.765076986661182, 81.663095058434141, -82.102031548835985, 29.555300148451604],
            [0.0, -7.0321379067945742, 47.745797107822554, -114.93752913770094, 116.26621857911195, -41.792348642439059],
            [0.0, 2.3537586759714983, -19.008209934160803, 50.255836422617602, -53.902077746638540, 20.300692582210083],
        ];
        return new ButcherTableau(
            "Prince–Dormand 8(7) 13M",
            [0.0, 1.0 / 18, 1.0 / 12, 1.0 / 8, 5.0 / 16, 3.0 / 8, 59.0 / 400, 93.0 / 200, 5490023248.0 / 9719169821, 13.0 / 20, 1201146811.0 / 1299019798, 1.0, 1.0, 1.0],
            a,
            b,
            order: 8,
            bError: [.. b.Zip(bHat, (x, y) => x - y)],
            embeddedOrder: 7,
            denseOutput: dense);
    }

    /// <summary>
    /// The quartic continuous extension through y0, y1, f0 = k_0, f1 = k_last and a midpoint value y0 + h·Σ cMid_i·k_i,
    /// written as per-stage weights b_i(θ) = a1·θ + a2·θ² + a3·θ³ + a4·θ⁴ with b_i(0) = 0, b_i'(0) = δ_i0,
    /// b_i(1/2) = cMid_i, b_i(1) = b_i and b_i'(1) = δ_i,last (valid for FSAL methods, whose last stage is f(t1, y1)).
    /// </summary>
    private static double[][] MidpointQuartic(double[] b, double[] cMid)
    {
        int s = b.Length;
        var result = new double[s][];
        for (int i = 0; i < s; i++)
        {
            double a1 = i == 0 ? 1 : 0;
            double slopeAtEnd = i == s - 1 ? 1 : 0;
            double r1 = b[i] - a1;
            double rm = cMid[i] - a1 / 2;
            double rd = slopeAtEnd - a1;
            double a2 = 16 * rm - 5 * r1 + rd;
            double a3 = 16 * rm - r1 - 3 * a2;
            double a4 = r1 - a2 - a3;
            result[i] = [a1, a2, a3, a4];
        }
        return result;
    }

    /// <summary>scale · Π factors, each factor a polynomial with ascending coefficients.</summary>
    private static double[] Product(double scale, params double[][] factors)
    {
        double[] acc = [scale];
        foreach (double[] factor in factors)
        {
            var next = new double[acc.Length + factor.Length - 1];
            for (int i = 0; i < acc.Length; i++)
            {
                for (int j = 0; j < factor.Length; j++) next[i + j] += acc[i] * factor[j];
            }
            acc = next;
        }
        return acc;
    }
}
