namespace NeuralOde.Core.Solvers;

/// <summary>
/// Published Rosenbrock methods in the transformed form of <see cref="RosenbrockTableau"/>, for stiff problems. Both
/// are stiffly accurate (the last stage's argument plus its increment is the solution, and the error estimate is the
/// last increment) and L-stable.
/// </summary>
public static class RosenbrockTableaus
{
    /// <summary>
    /// RODAS 4(3) (Hairer and Wanner, Solving Ordinary Differential Equations II, §VI.4; coefficients of their code
    /// rodas.f, METH = 1): six stages, five new evaluations of f per step, order 4 with an embedded order 3, a
    /// continuous extension of order 3.
    /// </summary>
    public static readonly RosenbrockTableau Rodas4 = CreateRodas4();

    /// <summary>
    /// Rodas5P (G. Steinebach, "Construction of Rosenbrock–Wanner method Rodas5P and numerical benchmarks within the
    /// Julia Differential Equations package", BIT Numerical Mathematics 63, 27, 2023): eight stages, order 5 with an
    /// embedded order 4, a continuous extension of order 4, built to avoid order reduction on stiff and
    /// differential-algebraic problems; the method SciML recommends at ordinary tolerances.
    /// </summary>
    public static readonly RosenbrockTableau Rodas5P = CreateRodas5P();

    private static RosenbrockTableau CreateRodas4()
    {
        double[] a5 = [1.221224509226641, 6.019134481288629, 12.53708332932087, -0.6878860361058950];
        double[][] a =
        [
            [],
            [1.544],
            [0.9466785280815826, 0.2557011698983284],
            [3.314825187068521, 2.896124015972201, 0.9986419139977817],
            a5,
            [.. a5, 1],
        ];
        double[][] cMatrix =
        [
            [],
            [-5.6688],
            [-2.430093356833875, -0.2063599157091915],
            [-0.1073529058151375, -9.594562251023355, -20.47028614809616],
            [7.496443313967647, -10.24680431464352, -33.99990352819905, 11.70890893206160],
            [8.083246795921522, -7.981132988064893, -31.52159432874371, 16.31930543123136, -6.058818238834054],
        ];
        double[][] dense =
        [
            [10.12623508344586, -7.487995877610167, -34.80091861555747, -7.992771707568823, 1.025137723295662, 0],
            [-0.6762803392801253, 6.087714651680015, 16.43084320892478, 24.76722511418386, -6.594389125716872, 0],
        ];
        return new RosenbrockTableau("Rodas 4(3)", 0.25, a, cMatrix,
            c: [0, 0.386, 0.21, 0.63, 1, 1],
            d: [0.25, -0.1043, 0.1035, -0.0362, 0, 0],
            m: [.. a5, 1, 1],
            mError: [0, 0, 0, 0, 0, 1],
            order: 4, embeddedOrder: 3, denseOutput: dense, denseOrder: 3);
    }

    private static RosenbrockTableau CreateRodas5P()
    {
        const double gamma = 0.21193756319429014;
        double[] a6 = [-7.502846399306121, 2.561846144803919, -11.627539656261098, -0.18268767659942256, 0.030198172008377946];
        double[][] a =
        [
            [],
            [3.0],
            [2.849394379747939, 0.45842242204463923],
            [-6.954028509809101, 2.489845061869568, -10.358996098473584],
            [2.8029986275628964, 0.5072464736228206, -0.3988312541770524, -0.04721187230404641],
            a6,
            [.. a6, 1],
            [.. a6, 1, 1],
        ];
        double[][] cMatrix =
        [
            [],
            [-14.155112264123755],
            [-17.97296035885952, -2.859693295451294],
            [147.12150275711716, -1.41221402718213, 71.68940251302358],
            [165.43517024871676, -0.4592823456491126, 42.90938336958603, -5.961986721573306],
            [24.854864614690072, -3.0009227002832186, 47.4931110020768, 5.5814197821558125, -0.6610691825249471],
            [30.91273214028599, -3.1208243349937974, 77.79954646070892, 34.28646028294783, -19.097331116725623, -28.087943162872662],
            [37.80277123390563, -3.2571969029072276, 112.26918849496327, 66.9347231244047, -40.06618937091002, -54.66780262877968, -9.48861652309627],
        ];
        double[][] dense =
        [
            [25.948786856663858, -2.5579724845846235, 10.433815404888879, -2.3679251022685204, 0.524948541321073, 1.1241088310450404, 0.4272876194431874, -0.17202221070155493],
            [-9.91568850695171, -0.9689944594115154, 3.0438037242978453, -24.495224566215796, 20.176138334709044, 15.98066361424651, -6.789040303419874, -6.710236069923372],
            [11.419903575922262, 2.8879645146136994, 72.92137995996029, 80.12511834622643, -52.072871366152654, -59.78993625266729, -0.15582684282751913, 4.883087185713722],
        ];
        return new RosenbrockTableau("Rodas5P", gamma, a, cMatrix,
            c: [0, 0.6358126895828704, 0.4095798393397535, 0.9769306725060716, 0.4288403609558664, 1, 1, 1],
            d: [0.21193756319429014, -0.42387512638858027, -0.3384627126235924, 1.8046452872882734, 2.325825639765069, 0, 0, 0],
            m: [.. a6, 1, 1, 1],
            mError: [0, 0, 0, 0, 0, 0, 0, 1],
            order: 5, embeddedOrder: 4, denseOutput: dense, denseOrder: 4);
    }
}
