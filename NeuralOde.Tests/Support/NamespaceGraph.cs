using System.Reflection;
using System.Reflection.Emit;

namespace NeuralOde.Tests.Support;

/// <summary>
/// Which namespaces of an assembly use which others, read from the compiled code itself: base types, interfaces,
/// member signatures, local variables and every type, method and field token in the method bodies' IL. A reference
/// in an XML doc comment is not a use.
/// </summary>
internal sealed class NamespaceGraph
{
    private const BindingFlags Declared =
        BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    private readonly Assembly assembly;

    /// <summary>For each (from, to) pair of distinct namespaces, one example of a use: "Type.Member uses Type".</summary>
    public Dictionary<(string From, string To), string> Edges { get; } = new();

    public NamespaceGraph(Assembly assembly)
    {
        this.assembly = assembly;
        foreach (Type type in assembly.GetTypes())
        {
            string? from = NamespaceOf(type);
            if (from is null) continue;
            AddType(from, type.FullName!, type.BaseType);
            foreach (Type i in type.GetInterfaces()) AddType(from, type.FullName!, i);
            foreach (FieldInfo field in type.GetFields(Declared)) AddType(from, $"{type.FullName}.{field.Name}", field.FieldType);
            foreach (MethodBase method in type.GetMethods(Declared).Cast<MethodBase>().Concat(type.GetConstructors(Declared)))
            {
                string where = $"{type.FullName}.{method.Name}";
                if (method is MethodInfo m) AddType(from, where, m.ReturnType);
                foreach (ParameterInfo p in method.GetParameters()) AddType(from, where, p.ParameterType);
                AddBody(from, where, method);
            }
        }
    }

    /// <summary>A cycle of namespaces as "A → B → A", or null when the graph has none.</summary>
    public string? FindCycle()
    {
        var next = Edges.Keys.GroupBy(e => e.From).ToDictionary(g => g.Key, g => g.Select(e => e.To).OrderBy(n => n, StringComparer.Ordinal).ToList());
        var state = new Dictionary<string, int>(); // 1 on the current path, 2 finished
        var path = new List<string>();
        foreach (string start in next.Keys.OrderBy(n => n, StringComparer.Ordinal))
        {
            string? cycle = Visit(start);
            if (cycle is not null) return cycle;
        }
        return null;

        string? Visit(string node)
        {
            if (state.TryGetValue(node, out int s))
            {
                if (s == 2) return null;
                List<string> loop = path.Skip(path.IndexOf(node)).Append(node).ToList();
                return string.Join(" → ", loop) + "; for example " +
                    string.Join("; ", loop.Zip(loop.Skip(1), (a, b) => Edges[(a, b)]));
            }
            state[node] = 1;
            path.Add(node);
            foreach (string to in next.GetValueOrDefault(node) ?? [])
            {
                string? cycle = Visit(to);
                if (cycle is not null) return cycle;
            }
            path.RemoveAt(path.Count - 1);
            state[node] = 2;
            return null;
        }
    }

    private string? NamespaceOf(Type type)
    {
        while (type.DeclaringType is not null) type = type.DeclaringType;
        return type.Assembly == assembly && type.Namespace is { } ns && ns.StartsWith(assembly.GetName().Name!, StringComparison.Ordinal)
            ? ns
            : null;
    }

    private void AddType(string from, string where, Type? type)
    {
        if (type is null) return;
        if (type.HasElementType) { AddType(from, where, type.GetElementType()); return; }
        if (type.IsGenericParameter) return;
        if (type.IsGenericType && !type.IsGenericTypeDefinition)
        {
            foreach (Type argument in type.GetGenericArguments()) AddType(from, where, argument);
            type = type.GetGenericTypeDefinition();
        }
        string? to = NamespaceOf(type);
        if (to is not null && to != from) Edges.TryAdd((from, to), $"{where} uses {type.FullName}");
    }

    private void AddBody(string from, string where, MethodBase method)
    {
        MethodBody? body;
        try { body = method.GetMethodBody(); }
        catch (InvalidOperationException) { return; }
        if (body is null) return;
        foreach (LocalVariableInfo local in body.LocalVariables) AddType(from, where, local.LocalType);
        byte[] il = body.GetILAsByteArray() ?? [];
        Type[]? typeArguments = method.DeclaringType is { IsGenericType: true } d ? d.GetGenericArguments() : null;
        Type[]? methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
        for (int i = 0; i < il.Length;)
        {
            short value = il[i] == 0xFE ? (short)(0xFE00 | il[i + 1]) : il[i];
            i += il[i] == 0xFE ? 2 : 1;
            OpCode op = OpCodesByValue[value];
            switch (op.OperandType)
            {
                case OperandType.InlineType or OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineTok:
                    int token = BitConverter.ToInt32(il, i);
                    MemberInfo member = method.Module.ResolveMember(token, typeArguments, methodArguments)!;
                    if (member is Type t) AddType(from, where, t);
                    else
                    {
                        AddType(from, where, member.DeclaringType);
                        if (member is MethodInfo { IsGenericMethod: true } gm)
                        {
                            foreach (Type a in gm.GetGenericArguments()) AddType(from, where, a);
                        }
                    }
                    i += 4;
                    break;
                case OperandType.InlineNone: break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar: i += 1; break;
                case OperandType.InlineVar: i += 2; break;
                case OperandType.InlineI8 or OperandType.InlineR: i += 8; break;
                case OperandType.InlineSwitch: i += 4 + 4 * BitConverter.ToInt32(il, i); break;
                default: i += 4; break; // InlineI, InlineBrTarget, InlineSig, InlineString, ShortInlineR
            }
        }
    }
}
