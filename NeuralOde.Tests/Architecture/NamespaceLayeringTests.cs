using System.Reflection;
using NeuralOde.AutoDiff;
using NeuralOde.Core;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Sensitivity;
using NeuralOde.Core.Solvers;
using NeuralOde.Tests.Support;

namespace NeuralOde.Tests.Architecture;

public class NamespaceLayeringTests
{
    private static NamespaceGraph CoreGraph() => new(typeof(Ode).Assembly);

    [TestCase(typeof(Ode))]
    [TestCase(typeof(Tape<>))]
    public void NamespacesOfTheLibrary_FormNoCycle(Type anyTypeOfTheAssembly)
    {
        var graph = new NamespaceGraph(anyTypeOfTheAssembly.Assembly);
        Assert.That(graph.Edges, Is.Not.Empty, "the scan found no use between namespaces at all: the scan is broken");
        Assert.That(graph.FindCycle(), Is.Null);
    }

    [Test]
    public void TheScan_SeesUsesInsideMethodBodies_AndTheLayersRunOneWay()
    {
        // Known uses, each only visible in one place: the loop calls a stepper (a body), a strategy runs the loop,
        // OdeLayer takes an ISensitivity (a signature). If the scan missed bodies, the cycle test above could not fail.
        var edges = CoreGraph().Edges.Keys.ToHashSet();
        string root = typeof(Ode).Namespace!, solvers = typeof(ButcherTableau).Namespace!;
        string sensitivity = typeof(Backprop).Namespace!, dynamics = typeof(IDynamics<>).Namespace!;
        Assert.Multiple(() =>
        {
            Assert.That(edges, Does.Contain((root, solvers)));
            Assert.That(edges, Does.Contain((sensitivity, root)));
            Assert.That(edges, Does.Contain((solvers, dynamics)));
            Assert.That(edges, Does.Not.Contain((solvers, root)));
            Assert.That(edges, Does.Not.Contain((root, sensitivity)));
            Assert.That(edges, Does.Not.Contain((dynamics, solvers)));
        });
    }

    [Test]
    public void FindCycle_ReportsACycle_WhenOneExists()
    {
        var graph = CoreGraph();
        graph.Edges[("NeuralOde.Core.Dynamics", "NeuralOde.Core.Flows")] = "planted";
        Assert.That(graph.FindCycle(), Does.Contain("NeuralOde.Core.Flows").And.Contain("planted"));
    }
}
