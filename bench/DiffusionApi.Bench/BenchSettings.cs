namespace DiffusionApi.Bench;

/// <summary>What one benchmark run generates: the figures use the tiny model at 64×64, 2 steps.</summary>
public sealed record BenchSettings(int Size = 64, int Steps = 2, int Requests = 200, int Clients = 8, int RejectionRequests = 2000);
