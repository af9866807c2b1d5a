using System.Buffers.Binary;
using System.IO.Compression;

namespace NeuralOde.Core.Data;

/// <summary>An unsigned-byte IDX array (the MNIST file format): its dimensions and its values, row-major.</summary>
/// <param name="Dimensions">The size of each dimension, outermost first (images: count, rows, columns; labels: count).</param>
/// <param name="Data">The values, row-major; its length is the product of the dimensions.</param>
public sealed record IdxArray(int[] Dimensions, byte[] Data)
{
    /// <summary>The size of the outermost dimension: the number of images or labels.</summary>
    public int Count => Dimensions.Length == 0 ? 0 : Dimensions[0];

    /// <summary>The number of values in one item: the product of all dimensions but the first (1 for labels).</summary>
    public int ItemLength
    {
        get
        {
            int length = 1;
            for (int i = 1; i < Dimensions.Length; i++) length *= Dimensions[i];
            return length;
        }
    }
}

/// <summary>Reads IDX files (LeCun's MNIST format, also Fashion-MNIST's), gzip-compressed or plain.</summary>
/// <remarks>
/// An IDX file is a big-endian header, two zero bytes, a type code (0x08 for unsigned bytes), the number of dimensions,
/// then one 32-bit size per dimension, followed by the values row-major. Gzip is recognised by its magic bytes
/// (1F 8B), not by the file name, so a decompressed file keeps working under its old name. Only the unsigned-byte
/// type is read: it is the one the image and label files use.
/// </remarks>
public static class IdxReader
{
    private const byte UnsignedByteType = 0x08;

    /// <summary>Reads one IDX file.</summary>
    /// <param name="path">The file, gzip-compressed or plain.</param>
    /// <returns>The array's dimensions and values.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The header is malformed, the type is not unsigned bytes, or the data is truncated.</exception>
    public static IdxArray Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"No IDX file at '{path}'.", path);
        using var file = File.OpenRead(path);
        Span<byte> magic = stackalloc byte[2];
        int got = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        file.Position = 0;
        bool gzip = got == 2 && magic[0] == 0x1F && magic[1] == 0x8B;
        using Stream stream = gzip ? new GZipStream(file, CompressionMode.Decompress) : file;
        return Read(stream, path);
    }

    /// <summary>Reads one plain (already decompressed) IDX stream.</summary>
    /// <param name="stream">The stream, positioned at the header.</param>
    /// <param name="name">A name for error messages.</param>
    /// <returns>The array's dimensions and values.</returns>
    /// <exception cref="InvalidDataException">The header is malformed, the type is not unsigned bytes, or the data is truncated.</exception>
    public static IdxArray Read(Stream stream, string name = "stream")
    {
        ArgumentNullException.ThrowIfNull(stream);
        Span<byte> header = stackalloc byte[4];
        ReadExactly(stream, header, name, "the header");
        if (header[0] != 0 || header[1] != 0)
            throw new InvalidDataException($"'{name}' is not an IDX file: it starts with {header[0]:X2} {header[1]:X2}, not 00 00.");
        if (header[2] != UnsignedByteType)
            throw new InvalidDataException($"'{name}' holds IDX type 0x{header[2]:X2}; only unsigned bytes (0x08) are read.");
        int rank = header[3];
        if (rank is < 1 or > 4) throw new InvalidDataException($"'{name}' declares {rank} dimensions; 1 to 4 are expected.");
        var dimensions = new int[rank];
        long length = 1;
        Span<byte> size = stackalloc byte[4];
        for (int i = 0; i < rank; i++)
        {
            ReadExactly(stream, size, name, $"dimension {i}");
            int d = BinaryPrimitives.ReadInt32BigEndian(size);
            if (d < 0) throw new InvalidDataException($"'{name}' declares dimension {i} of size {d}.");
            dimensions[i] = d;
            length *= d;
            if (length > Array.MaxLength) throw new InvalidDataException($"'{name}' declares {length} values, more than an array holds.");
        }
        var data = new byte[length];
        ReadExactly(stream, data, name, $"the {length} values");
        return new IdxArray(dimensions, data);
    }

    private static void ReadExactly(Stream stream, Span<byte> destination, string name, string what)
    {
        int read = stream.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false);
        if (read < destination.Length)
            throw new InvalidDataException($"'{name}' ends early: {what} needs {destination.Length} bytes, only {read} remain.");
    }
}
