using System.Buffers.Binary;
using System.Text;

namespace DiffusionEngine.Tests.Imaging;

/// <summary>A minimal PNG chunk reader for tests: splits the stream into chunks and recomputes each CRC.</summary>
internal static class PngChunks
{
    public sealed record Chunk(string Type, byte[] Data, uint StoredCrc, uint ComputedCrc)
    {
        public bool CrcValid => StoredCrc == ComputedCrc;
    }

    public static List<Chunk> Read(byte[] png)
    {
        Assert.Equal([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], png[..8]);
        var chunks = new List<Chunk>();
        var offset = 8;
        while (offset < png.Length)
        {
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(offset));
            var type = Encoding.ASCII.GetString(png, offset + 4, 4);
            var data = png[(offset + 8)..(offset + 8 + length)];
            var stored = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(offset + 8 + length));
            chunks.Add(new Chunk(type, data, stored, ReferenceCrc(png.AsSpan(offset + 4, 4 + length))));
            offset += 12 + length;
        }

        Assert.Equal(png.Length, offset);
        return chunks;
    }

    // Bit-at-a-time CRC-32 straight from the PNG spec's definition, independent of the encoder's table version.
    private static uint ReferenceCrc(ReadOnlySpan<byte> bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }

        return ~crc;
    }
}
